// @ts-check
/**
 * The dashboard's only way to the server: the public REST API, with the API key (when the server asks
 * for one) sent as `Authorization: Bearer`. The key lives in this tab's sessionStorage, never in a URL.
 */

const KEY_STORAGE = 'taskqueue.apiKey';

/** An answer other than 2xx, with the message of the server's error body. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }

  /** The route does not exist on this server (an older version, or a feature not deployed yet). */
  get missingRoute() {
    return this.status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE) /.test(this.message);
  }
}

/** @returns {string | null} */
export function storedKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  keyListeners.forEach((listener) => listener());
}

/** @type {Set<() => void>} */
const keyListeners = new Set();

/** @param {() => void} listener called when the stored key changes */
export function onKeyChange(listener) {
  keyListeners.add(listener);
}

/** @type {Promise<void> | null} one prompt at a time, shared by every request that met a 401 */
let prompt = null;

/**
 * Shows the key dialog and resolves once a key was entered and stored.
 * @param {string} message
 * @returns {Promise<void>}
 */
function askForKey(message) {
  if (prompt) return prompt;
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('key-dialog'));
  const form = /** @type {HTMLFormElement} */ (document.getElementById('key-form'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('api-key'));
  /** @type {HTMLElement} */ (document.getElementById('key-dialog-message')).textContent = message;
  input.value = '';
  prompt = new Promise((resolve) => {
    // Nothing works without a key: Escape does not close the prompt.
    const stay = (/** @type {Event} */ event) => event.preventDefault();
    dialog.addEventListener('cancel', stay);
    form.addEventListener(
      'submit',
      () => {
        sessionStorage.setItem(KEY_STORAGE, input.value.trim());
        input.value = '';
        dialog.removeEventListener('cancel', stay);
        prompt = null;
        keyListeners.forEach((listener) => listener());
        resolve();
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
  return prompt;
}

/**
 * @typedef {{ query?: Record<string, string | number | undefined>, body?: unknown }} RequestOptions
 * @typedef {{ status: number, data: any, headers: Headers }} ApiResponse
 */

/**
 * @param {string} method
 * @param {string} path absolute path of the API, e.g. /tasks
 * @param {RequestOptions} [options]
 * @returns {Promise<ApiResponse>}
 */
export async function request(method, path, options = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  for (;;) {
    const key = storedKey();
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    if (key) headers.Authorization = `Bearer ${key}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
    });
    if (res.status === 401) {
      // A key entered meanwhile (by another request's prompt) is tried before asking again.
      if (storedKey() === key) {
        await askForKey(key ? 'The key was not accepted. Enter another API key.' : 'This server needs an API key. It is kept in this tab only (session storage).');
      }
      continue;
    }
    const text = await res.text();
    /** @type {any} */
    let data = null;
    if (text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!res.ok) {
      const message = data && typeof data === 'object' && 'message' in data ? [data.message].flat().join('; ') : `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, message);
    }
    return { status: res.status, data, headers: res.headers };
  }
}

/**
 * @param {string} path
 * @param {RequestOptions['query']} [query]
 */
export async function getJson(path, query) {
  return (await request('GET', path, { query })).data;
}

/**
 * The path and query of the next page from a `Link: <...>; rel="next"` header, or null.
 * @param {Headers} headers
 * @returns {string | null}
 */
export function nextPageLink(headers) {
  const link = headers.get('Link');
  if (!link) return null;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return null;
}
