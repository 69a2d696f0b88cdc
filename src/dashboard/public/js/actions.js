// @ts-check
import { request } from './api.js';

/**
 * Asks in the confirm dialog; resolves true when confirmed. Focus starts on Cancel (the actions are
 * destructive or costly) and returns to the element that had it.
 * @param {string} title
 * @param {string} message
 * @param {string} confirmLabel
 * @returns {Promise<boolean>}
 */
function confirmAction(title, message, confirmLabel) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('confirm-dialog'));
  /** @type {HTMLElement} */ (document.getElementById('confirm-dialog-title')).textContent = title;
  /** @type {HTMLElement} */ (document.getElementById('confirm-dialog-message')).textContent = message;
  /** @type {HTMLElement} */ (document.getElementById('confirm-ok')).textContent = confirmLabel;
  const before = document.activeElement;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if (before instanceof HTMLElement && before.isConnected) before.focus();
        resolve(dialog.returnValue === 'confirm');
      },
      { once: true },
    );
    dialog.showModal();
    /** @type {HTMLElement} */ (document.getElementById('confirm-cancel')).focus();
  });
}

/**
 * Shows the outcome of an action in the page's status region (read out by screen readers).
 * @param {string} text
 * @param {boolean} [failed]
 */
export function announce(text, failed = false) {
  const outcome = /** @type {HTMLElement} */ (document.getElementById('outcome'));
  outcome.textContent = text;
  outcome.className = failed ? 'error' : 'ok';
}

/**
 * Confirm, call the endpoint, announce the outcome. Resolves true when the call succeeded.
 * @param {{ title: string, message: string, confirm: string, method: string, path: string, query?: Record<string, string | undefined>, done: (data: any) => string }} action
 */
export async function runAction(action) {
  if (!(await confirmAction(action.title, action.message, action.confirm))) return false;
  try {
    const { data } = await request(action.method, action.path, { query: action.query });
    announce(action.done(data));
    return true;
  } catch (err) {
    announce(`${action.title} failed: ${err instanceof Error ? err.message : String(err)}`, true);
    return false;
  }
}
