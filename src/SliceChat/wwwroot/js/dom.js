// Small DOM helpers: elements are built with properties and children, never from HTML strings.

/** h('button', {type: 'button', onclick}, 'Send') */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('aria-') || key === 'role' || key === 'for') element.setAttribute(key, value === true ? 'true' : value);
    else element[key] = value;
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** Text for screen readers only (e.g. " unread" after a count badge). */
export const hiddenText = (text) => h('span', { class: 'visually-hidden' }, text);

export const byId = (id) => document.getElementById(id);

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A <time> showing the hour today and the date otherwise. */
export function timeElement(iso) {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return h('time', { dateTime: iso, title: dateTimeFormat.format(date) }, today ? timeFormat.format(date) : dateTimeFormat.format(date));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves after ms, or earlier when the browser comes back online. */
export function sleepUntilOnline(ms) {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); window.removeEventListener('online', done); resolve(); };
    const timer = setTimeout(done, ms);
    window.addEventListener('online', done);
  });
}

/** Exponential back-off with jitter: 0.5 s, 1 s, 2 s … up to 30 s. */
export function backoff(attempt) {
  const base = Math.min(30_000, 500 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

/** A random id for client_message_id (crypto.randomUUID exists only in secure contexts). */
export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
