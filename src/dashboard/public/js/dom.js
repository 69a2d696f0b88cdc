// @ts-check
/**
 * Small DOM helpers. Text from the API only ever goes in as text nodes (never as HTML), so a task's
 * payload or error cannot inject markup.
 */

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs] `class`, `on<event>` listeners, booleans toggle the attribute
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === 'class') {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces an element's children.
 * @param {Element} parent
 * @param {...(Child | Child[])} children
 */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * A table in a scrollable region (narrow screens scroll it sideways; the region is focusable so a
 * keyboard can scroll it too).
 * @param {string} caption
 * @param {string[]} columns
 * @param {HTMLElement} tbody
 * @param {string} [className]
 */
export function table(caption, columns, tbody, className) {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: 0 },
    h(
      'table',
      { class: className },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      tbody,
    ),
  );
}

/**
 * A panel's message that its endpoint is missing on this server (or another error), in place of it.
 * @param {unknown} err
 * @param {string} what
 */
export function problem(err, what) {
  const missing = /** @type {{ missingRoute?: boolean }} */ (err)?.missingRoute === true;
  const text = missing
    ? `${what} is not available on this server (its endpoint does not exist here).`
    : `Could not load ${what}: ${err instanceof Error ? err.message : String(err)}`;
  return h('p', { class: missing ? 'unavailable' : 'error' }, text);
}
