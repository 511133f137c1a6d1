// @ts-check
/**
 * The signed-in key, kept in this tab's sessionStorage only: it is gone when the tab
 * closes, other tabs do not see it, and it never reaches localStorage, cookies or a URL.
 */

const STORAGE_KEY = 'herald.console.session';

/** @typedef {'admin' | 'member'} Role */
/** @typedef {{key: string, role: Role}} Session */

/** @returns {Session | null} */
export function loadSession() {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw);
    if (typeof parsed?.key === 'string' && (parsed.role === 'admin' || parsed.role === 'member')) return parsed;
  } catch {
    // unreadable storage: treat as signed out
  }
  return null;
}

/** @param {Session} session */
export function saveSession(session) {
  window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

/** Signing out forgets everything the tab kept: the key, and what the pages remembered (recent tests). */
export function clearSession() {
  window.sessionStorage.clear();
}
