// @ts-check
import { Api, messageOf } from './api.js';
import { h, pageHeader } from './dom.js';
import { renderAutomations } from './pages/automations.js';
import { renderDeliveries } from './pages/deliveries.js';
import { renderEvents } from './pages/events.js';
import { renderKeys } from './pages/keys.js';
import { renderSecrets } from './pages/secrets.js';
import { renderSignIn } from './pages/signin.js';
import { renderSources } from './pages/sources.js';
import { renderWebhooks } from './pages/webhooks.js';
import { clearSession, loadSession, saveSession } from './session.js';

/**
 * What every page gets: the API client, where to draw, the route's id and query, whether
 * the key may change things, and a signal aborted when the person navigates away.
 * @typedef {object} PageContext
 * @property {Api} api
 * @property {HTMLElement} main
 * @property {string | null} id
 * @property {URLSearchParams} query
 * @property {boolean} admin
 * @property {AbortSignal} signal
 * @property {(hash: string) => void} go
 */

/** @type {Record<string, (ctx: PageContext) => Promise<void>>} */
const PAGES = {
  secrets: renderSecrets,
  webhooks: renderWebhooks,
  automations: renderAutomations,
  deliveries: renderDeliveries,
  events: renderEvents,
  sources: renderSources,
  keys: renderKeys,
};
const DEFAULT_PAGE = 'webhooks';

/**
 * `#/deliveries/msg_1?status=failed` → page, id and query. Unknown pages show the default.
 * @param {string} hash
 */
export function parseRoute(hash) {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const [page, ...rest] = (q >= 0 ? text.slice(0, q) : text).split('/');
  let id = null;
  try {
    id = rest.length > 0 && rest.join('/') !== '' ? decodeURIComponent(rest.join('/')) : null;
  } catch {
    id = null;
  }
  return { page: page in PAGES ? page : DEFAULT_PAGE, id, query: new URLSearchParams(q >= 0 ? text.slice(q + 1) : '') };
}

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
let lifetime = new AbortController();
/** Why the person was signed out, shown once on the sign-in page. */
let signedOutBecause = '';

async function show() {
  lifetime.abort();
  lifetime = new AbortController();
  const signal = lifetime.signal;
  const session = loadSession();
  const route = parseRoute(window.location.hash);
  updateChrome(session ? session.role : null, route.page);

  if (!session) {
    renderSignIn(main, {
      message: signedOutBecause,
      onSignedIn: (next) => {
        signedOutBecause = '';
        saveSession(next);
        void show();
      },
    });
    focusHeading();
    return;
  }

  const api = new Api(session.key, (message) => signOut(`You were signed out: ${message}`));
  main.replaceChildren(h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  try {
    await PAGES[route.page]({
      api,
      main,
      id: route.id,
      query: route.query,
      admin: session.role === 'admin',
      signal,
      go: (hash) => {
        if (window.location.hash === hash) void show();
        else window.location.hash = hash;
      },
    });
  } catch (error) {
    if (signal.aborted) return;
    main.replaceChildren(pageHeader('This page could not be loaded', messageOf(error)));
  }
  if (!signal.aborted) focusHeading();
}

/** After navigation, focus the page's heading unless the person is already working inside the page. */
function focusHeading() {
  if (main.contains(document.activeElement)) return;
  /** @type {HTMLElement | null} */ (main.querySelector('h1'))?.focus();
}

/** @param {string} reason */
function signOut(reason) {
  clearSession();
  signedOutBecause = reason;
  void show();
}

/**
 * @param {string | null} role
 * @param {string} page
 */
function updateChrome(role, page) {
  const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
  const session = /** @type {HTMLElement} */ (document.getElementById('session'));
  nav.hidden = role === null;
  session.hidden = role === null;
  /** @type {HTMLElement} */ (document.getElementById('session-role')).textContent =
    role === 'admin' ? 'Signed in · admin' : role === 'member' ? 'Signed in · member (read only)' : '';
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

document.getElementById('sign-out')?.addEventListener('click', () => signOut(''));
document.getElementById('skip-link')?.addEventListener('click', () => main.focus());
window.addEventListener('hashchange', () => void show());
void show();
