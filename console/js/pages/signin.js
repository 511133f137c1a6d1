// @ts-check
import { Api, ApiProblem } from '../api.js';
import { Notice, h, pageHeader } from '../dom.js';
import { field, formError, showProblem, submitting } from '../forms.js';

/**
 * Which role a key has, asked of the API itself: listing API keys needs admin, listing
 * webhooks needs member. Ingest keys cannot read anything, so they cannot use the console.
 * @param {string} key
 * @returns {Promise<import('../session.js').Role>}
 */
export async function probeRole(key) {
  const api = new Api(key, () => {});
  try {
    await api.request('GET', '/api-keys', { query: { limit: 1 }, quiet401: true });
    return 'admin';
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.statusCode !== 403) throw error;
  }
  try {
    await api.request('GET', '/webhooks', { query: { limit: 1 }, quiet401: true });
    return 'member';
  } catch (error) {
    if (error instanceof ApiProblem && error.statusCode === 403) {
      throw new ApiProblem(403, 'This key may only post events. Sign in with an admin or member key.');
    }
    throw error;
  }
}

/**
 * @param {HTMLElement} main
 * @param {{message: string, onSignedIn: (session: import('../session.js').Session) => void}} options
 */
export function renderSignIn(main, { message, onSignedIn }) {
  // No `name`: even a native submission could not carry the key into a URL (and the CSP forbids one).
  const input = h('input', {
    type: 'password',
    id: 'api-key',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
    required: true,
    placeholder: 'hrd_…',
  });
  const notice = new Notice();
  if (message) notice.fail(message);
  const form = h(
    'form',
    { class: 'panel signin', novalidate: true, method: 'post', action: '#' },
    formError(),
    field({
      key: 'apiKey',
      label: 'API key',
      control: input,
      hint: "An admin or member key. It stays in this tab's session storage and is sent only to this Herald; closing the tab signs you out.",
    }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit' }, 'Sign in')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submitting(form, async () => {
      const key = input.value.trim();
      if (key === '') throw new ApiProblem(400, 'Enter an API key', [{ field: 'apiKey', reason: 'Enter an API key.' }]);
      try {
        const role = await probeRole(key);
        onSignedIn({ key, role });
      } catch (error) {
        if (error instanceof ApiProblem && error.statusCode !== 0) {
          showProblem(form, new ApiProblem(error.statusCode, error.message, [{ field: 'apiKey', reason: error.message }]));
        } else {
          throw error;
        }
      }
    });
  });
  main.replaceChildren(
    pageHeader('Sign in', 'Manage webhooks, automations and delivery history of your Herald team.'),
    notice.element,
    form,
  );
  input.focus();
}
