// SliceChat's web client: the screens and the state of one signed-in user. It speaks only the public API
// (api.js for REST, live.js for the socket), so it doubles as a reference client.

import { ApiError, Session } from './api.js';
import { LiveSocket } from './live.js';
import { byId, h, randomId, backoff, sleepUntilOnline } from './dom.js';
import { conversationItem, messageItem } from './render.js';

const PAGE_SIZE = 50;
const TYPING_SEND_EVERY_MS = 2_500;
const TYPING_SHOWN_MS = 5_000;
const READ_EVERY_MS = 1_000;

const session = new Session();
const live = new LiveSocket(session);

const state = {
  me: null, // {id, username}
  conversations: new Map(), // chatroom_id -> conversation (the API's fields + messages, pending, members, typing)
  openId: null,
  draft: null, // {partner: {id, username}} while writing a first direct message
};

// ---- alerts -------------------------------------------------------------------------------------------

function showError(error) {
  const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  byId('alert-text').textContent = text;
  byId('alert').hidden = false;
}

function clearError() {
  byId('alert').hidden = true;
  byId('alert-text').textContent = '';
}

byId('alert-close').addEventListener('click', clearError);

/** Runs an action of the user and shows what went wrong, if anything. */
async function attempt(action) {
  try {
    await action();
    return true;
  } catch (error) {
    showError(error);
    return false;
  }
}

// ---- signing in and out -------------------------------------------------------------------------------

function showSignedOut(reason) {
  live.stop();
  closeConversation();
  state.me = null;
  state.conversations.clear();
  renderConversations();
  byId('signed-in').hidden = true;
  byId('signed-out').hidden = false;
  if (reason) showError(reason);
  byId('auth-form').elements.username.focus();
}

let registering = false;

/** What registration adds to the shared form's fields: the server's username and password rules. */
const REGISTRATION_RULES = {
  username: { minlength: '3', maxlength: '32', pattern: '[A-Za-z0-9_.\\-]+', 'aria-describedby': 'username-hint' },
  password: { minlength: '8', 'aria-describedby': 'password-hint' },
};

/** One form for both, so each label names one field: registration shows the email field and the rules. */
function showForm(register) {
  registering = register;
  const form = byId('auth-form');
  for (const element of document.querySelectorAll('.register-only')) element.hidden = !register;
  form.elements.email.disabled = !register;
  form.elements.email.required = register;
  for (const [field, rules] of Object.entries(REGISTRATION_RULES)) {
    for (const [name, value] of Object.entries(rules)) {
      if (register) form.elements[field].setAttribute(name, value);
      else form.elements[field].removeAttribute(name);
    }
  }
  form.elements.password.autocomplete = register ? 'new-password' : 'current-password';
  byId('auth-title').textContent = register ? 'Register' : 'Sign in';
  byId('auth-submit').textContent = register ? 'Create account' : 'Log in';
  byId('auth-switch-text').textContent = register ? 'Have an account?' : 'New here?';
  byId('auth-switch').textContent = register ? 'Back to sign-in' : 'Register a new account';
  clearError();
  form.elements.username.focus();
}

byId('auth-switch').addEventListener('click', () => showForm(!registering));

byId('auth-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const username = form.get('username').trim();
  const done = registering
    ? await attempt(() => session.register(username, form.get('email').trim(), form.get('password')))
    : await attempt(() => session.login(username, form.get('password')));
  if (done) {
    event.target.reset();
    showForm(false);
    await enter();
  }
});

byId('logout').addEventListener('click', () => session.logout().catch(() => { /* logged out here regardless */ }));

session.addEventListener('ended', (event) => showSignedOut(event.detail));

async function enter() {
  clearError();
  for (let tries = 0; !state.me; tries++) {
    try {
      state.me = await session.request('GET', '/api/v1/users/me');
    } catch (error) {
      if (!session.signedIn) return showSignedOut(error.status === 401 ? null : error.message);
      showError(error);
      if (!error.retryable) return undefined;
      await sleepUntilOnline(backoff(tries)); // offline or the server unreachable at start: try again
    }
  }
  clearError();
  byId('signed-out').hidden = true;
  byId('signed-in').hidden = false;
  byId('me-name').textContent = state.me.username;
  showStatus(live.status);
  await attempt(reloadConversations);
  live.start();
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('c');
  if (fromHash && state.conversations.has(fromHash)) await openConversation(fromHash);
}

// ---- the socket ---------------------------------------------------------------------------------------

function showStatus(status) {
  const text = { connecting: 'Connecting…', open: 'Connected', reconnecting: navigator.onLine
    ? 'Connection lost. Reconnecting…' : 'Offline. Reconnecting when the network is back…' }[status];
  const element = byId('connection');
  element.textContent = text;
  element.className = `connection ${status}`;
}

live.addEventListener('status', (event) => showStatus(event.detail));
window.addEventListener('offline', () => showStatus(live.status));
window.addEventListener('online', () => showStatus(live.status));

live.addEventListener('frame', (event) => {
  const frame = event.detail;
  switch (frame.type) {
    case 'ready': return caughtUp();
    case 'message.created': return received([frame], true);
    case 'message.updated':
    case 'message.deleted': return received([frame], false);
    case 'typing': return typing(frame);
    case 'read': return readMoved(frame);
    case 'member.joined':
    case 'member.left': return membersChanged(frame);
    case 'chatroom.deleted': return removed(frame.chatroom_id, 'This room was deleted.');
    case 'presence': return presence(frame);
    case 'error': return socketError(frame);
    default: return undefined;
  }
});

/** After every (re)connect: the list again, and each conversation we hold messages of synced from its newest seq. */
async function caughtUp() {
  for (const conversation of state.conversations.values()) {
    if (conversation.loaded) live.send({ type: 'sync', chatroom_id: conversation.chatroom_id, after_seq: contiguousSeq(conversation) });
  }
  await attempt(reloadConversations);
  const open = current();
  if (open) {
    loadMembers(open);
    markRead();
  }
}

function socketError(frame) {
  if (frame.code === 'sync_incomplete') {
    // The replay stopped early (it was long): fetch the rest over REST.
    for (const conversation of state.conversations.values()) if (conversation.loaded) fillAfter(conversation);
    return;
  }
  // Only typing and sync go over the socket; a typing frame over the limit is not worth an alert.
  if (frame.code === 'rate_limited') return;
  showError(frame.message || `The server refused a request (${frame.code}).`);
}

// ---- conversations ------------------------------------------------------------------------------------

function blankConversation(data) {
  return { ...data, loaded: false, messages: new Map(), pending: new Map(), hasMore: false, members: null, typing: new Map() };
}

const current = () => (state.openId ? state.conversations.get(state.openId) : null);

async function reloadConversations() {
  const list = await session.request('GET', '/api/v1/messages/conversations');
  const seen = new Set();
  for (const data of list) {
    seen.add(data.chatroom_id);
    const known = state.conversations.get(data.chatroom_id);
    if (known) Object.assign(known, data);
    else state.conversations.set(data.chatroom_id, blankConversation(data));
  }
  for (const id of [...state.conversations.keys()]) if (!seen.has(id)) removed(id, null);
  renderConversations();
  const open = current();
  if (open) markRead();
}

let reloadTimer = 0;
function reloadConversationsSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => attempt(reloadConversations), 150);
}

function renderConversations() {
  const sorted = [...state.conversations.values()].sort((a, b) => (b.updated_at ?? '').localeCompare(a.updated_at ?? ''));
  const list = byId('conversations');
  // Rebuilt on every change: a keyboard user's focus stays on the conversation it was on.
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.chatroomId : null;
  list.replaceChildren(...sorted.map((c) => conversationItem(c, {
    current: c.chatroom_id === state.openId,
    onOpen: (id) => openConversation(id),
  })));
  if (focused) list.querySelector(`button[data-chatroom-id="${focused}"]`)?.focus();
  byId('no-conversations').hidden = sorted.length > 0;
  document.title = titleWithUnread();
}

function titleWithUnread() {
  const unread = [...state.conversations.values()].reduce((sum, c) => sum + (c.unread_count ?? 0), 0);
  return unread > 0 ? `(${unread}) SliceChat` : 'SliceChat';
}

function removed(chatroomId, reason) {
  if (!state.conversations.delete(chatroomId)) return;
  if (state.openId === chatroomId) {
    closeConversation();
    if (reason) showError(reason);
  }
  renderConversations();
}

function membersChanged(frame) {
  if (frame.user_id === state.me?.id) {
    if (frame.type === 'member.left') removed(frame.chatroom_id, 'You are no longer a member of this room.');
    else reloadConversationsSoon();
    return;
  }
  const conversation = state.conversations.get(frame.chatroom_id);
  if (conversation?.members) loadMembers(conversation);
}

function presence(frame) {
  let changed = false;
  for (const conversation of state.conversations.values()) {
    if (conversation.partner?.id === frame.user_id) {
      conversation.partner = { ...conversation.partner, status: frame.status, last_seen_at: frame.last_seen_at };
      changed = true;
    }
  }
  if (changed) {
    renderConversations();
    renderHeader();
  }
}

// ---- one open conversation ----------------------------------------------------------------------------

async function openConversation(chatroomId) {
  const conversation = state.conversations.get(chatroomId);
  if (!conversation) return;
  state.openId = chatroomId;
  state.draft = null;
  history.replaceState(null, '', `#c=${chatroomId}`);
  showConversation();
  renderConversations();
  if (!conversation.loaded) {
    // Live messages that come while the page loads are kept: the server never sends a socket one it already had,
    // so the sync below would not bring back one dropped here, and the page may have been read before it was stored.
    conversation.loading = true;
    await attempt(async () => {
      const page = await session.request('GET', `/api/v1/chatrooms/${chatroomId}/messages?limit=${PAGE_SIZE}`);
      conversation.hasMore = page.has_more;
      conversation.contiguous = page.items.at(-1)?.seq ?? 0;
      conversation.loaded = true;
      store(conversation, page.items);
    }).finally(() => { conversation.loading = false; });
    // Sent while the page was on its way: sync covers what the socket had not yet delivered.
    if (conversation.loaded) live.send({ type: 'sync', chatroom_id: chatroomId, after_seq: contiguousSeq(conversation) });
  }
  if (state.openId !== chatroomId) return;
  renderMessages({ toBottom: true });
  renderTyping();
  loadMembers(conversation);
  markRead();
}

/** A direct conversation that does not exist yet: it starts with the first message. */
function openDraft(partner) {
  const existing = [...state.conversations.values()].find((c) => c.partner?.id === partner.id);
  if (existing) return openConversation(existing.chatroom_id);
  state.openId = null;
  state.draft = { partner };
  history.replaceState(null, '', location.pathname);
  showConversation();
  renderConversations();
  renderMessages({ toBottom: true });
  return undefined;
}

function showConversation() {
  byId('conversation').hidden = false;
  byId('empty').hidden = true;
  document.body.classList.add('viewing-conversation');
  renderHeader();
  byId('typing').textContent = '';
  byId('message-input').focus();
}

function closeConversation() {
  state.openId = null;
  state.draft = null;
  history.replaceState(null, '', location.pathname);
  byId('conversation').hidden = true;
  byId('empty').hidden = false;
  document.body.classList.remove('viewing-conversation');
  byId('message-list').replaceChildren();
  delete byId('message-list').dataset.owner;
  renderConversations();
}

byId('back').addEventListener('click', closeConversation);

function renderHeader() {
  const conversation = current();
  const title = byId('conversation-title');
  if (!conversation && !state.draft) return;
  const partner = conversation ? conversation.partner : state.draft.partner;
  title.textContent = conversation ? conversation.name : partner.username;
  byId('conversation-presence').hidden = partner?.status !== 'online';
  byId('leave').hidden = conversation?.kind !== 'group';
}

byId('leave').addEventListener('click', () => attempt(async () => {
  const conversation = current();
  if (!conversation || !confirm(`Leave ${conversation.name}?`)) return;
  await session.request('POST', `/api/v1/chatrooms/${conversation.chatroom_id}/leave`);
  removed(conversation.chatroom_id, null);
}));

/**
 * The seq up to which nothing is missing: what sync and catch-up continue after. A message can be stored past a
 * gap (the answer to our own send may come before what the socket missed while it was down).
 */
function contiguousSeq(conversation) {
  let seq = conversation.contiguous ?? (conversation.messages.size > 0 ? oldestSeq(conversation) : 0);
  while (conversation.messages.has(seq + 1)) seq++;
  conversation.contiguous = seq;
  return seq;
}

const oldestSeq = (conversation) => Math.min(...conversation.messages.keys());

/** Keeps messages by seq: a message seen twice (a sync replay, a REST answer and its event) is stored once. */
function store(conversation, messages) {
  let gap = false;
  for (const message of messages) {
    if (conversation.loaded && message.seq > contiguousSeq(conversation) + 1) gap = true;
    conversation.messages.set(message.seq, message);
    if (message.client_message_id && message.sender_id === state.me?.id) conversation.pending.delete(message.client_message_id);
  }
  if (gap) fillAfter(conversation);
}

/** Messages after our newest over REST, page by page: the fallback when the socket's replay stopped short or a seq is missing. */
async function fillAfter(conversation) {
  if (conversation.filling) return;
  conversation.filling = true;
  try {
    for (let hasMore = true; hasMore;) {
      const after = contiguousSeq(conversation);
      const page = await session.request('GET', `/api/v1/chatrooms/${conversation.chatroom_id}/messages?after_seq=${after}&limit=200`);
      store(conversation, page.items);
      hasMore = page.has_more && page.items.length > 0;
    }
  } catch (error) {
    showError(error);
  } finally {
    conversation.filling = false;
    if (conversation === current()) renderMessages();
  }
}

function received(messages, created) {
  for (const message of messages) {
    const conversation = state.conversations.get(message.chatroom_id);
    if (!conversation) {
      reloadConversationsSoon(); // a conversation we have not listed yet
      continue;
    }
    const isNew = created && message.seq > (conversation.last_seq ?? 0);
    if (created ? conversation.loaded || conversation.loading : conversation.messages.has(message.seq)) store(conversation, [message]);
    if (isNew) {
      conversation.last_seq = message.seq;
      conversation.updated_at = message.created_at;
      if (message.sender_id === state.me.id) conversation.last_read_seq = message.seq;
      else conversation.unread_count = (conversation.unread_count ?? 0) + 1;
      conversation.typing.delete(message.sender_id);
      // A send moves its sender's read marker too, without a read event.
      const sender = conversation.members?.get(message.sender_id);
      if (sender) sender.last_read_seq = Math.max(sender.last_read_seq ?? 0, message.seq);
    }
    if (conversation.last_message?.seq === message.seq || isNew) conversation.last_message = message;
    if (conversation === current()) {
      renderMessages();
      renderTyping();
      if (message.sender_id !== state.me.id) markRead();
    }
  }
  renderConversations();
}

// ---- history paging -----------------------------------------------------------------------------------

async function loadOlder() {
  const conversation = current();
  if (!conversation?.loaded || !conversation.hasMore || conversation.loadingOlder || conversation.messages.size === 0) return;
  conversation.loadingOlder = true;
  try {
    const page = await session.request('GET',
      `/api/v1/chatrooms/${conversation.chatroom_id}/messages?before_seq=${oldestSeq(conversation)}&limit=${PAGE_SIZE}`);
    conversation.hasMore = page.has_more;
    store(conversation, page.items);
    if (conversation === current()) renderMessages({ keepBottomDistance: true });
  } catch (error) {
    showError(error);
  } finally {
    conversation.loadingOlder = false;
  }
}

byId('older').addEventListener('click', loadOlder);
byId('messages').addEventListener('scroll', (event) => {
  if (event.target.scrollTop < 80) loadOlder();
}, { passive: true });

// ---- rendering the messages ---------------------------------------------------------------------------

const elements = new Map(); // key -> {version, element} of the open conversation's messages

function renderMessages({ toBottom = false, keepBottomDistance = false } = {}) {
  const container = byId('messages');
  const list = byId('message-list');
  const conversation = current();
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
  const fromBottom = container.scrollHeight - container.scrollTop;

  const confirmed = conversation ? [...conversation.messages.values()].sort((a, b) => a.seq - b.seq) : [];
  const pending = conversation ? [...conversation.pending.values()] : [...(state.draft?.pending?.values() ?? [])];
  const wanted = [...confirmed.map((m) => ({ key: `s${m.seq}`, message: m })), ...pending.map((m) => ({ key: `p${m.client_message_id}`, message: m }))];

  if (list.dataset.owner !== (state.openId ?? 'draft')) {
    list.replaceChildren();
    elements.clear();
    list.dataset.owner = state.openId ?? 'draft';
  }
  const keys = new Set(wanted.map((w) => w.key));
  for (const [key, entry] of elements) if (!keys.has(key)) { entry.element.remove(); elements.delete(key); }

  let cursor = list.firstElementChild;
  for (const { key, message } of wanted) {
    const version = `${message.id}|${message.edited_at}|${message.deleted_at}|${message.pending ?? ''}|${message.content}`;
    let entry = elements.get(key);
    if (!entry || entry.version !== version) {
      const element = messageItem(message, messageActions(message));
      if (entry) {
        if (entry.element === cursor) cursor = element;
        entry.element.replaceWith(element);
      }
      entry = { version, element };
      elements.set(key, entry);
    }
    if (entry.element !== cursor) list.insertBefore(entry.element, cursor);
    else cursor = cursor.nextElementSibling;
  }

  renderReceipts(conversation);
  const startKnown = conversation ? conversation.loaded && !conversation.hasMore : true;
  byId('older').hidden = startKnown;
  byId('history-start').hidden = !startKnown;

  if (toBottom || atBottom) container.scrollTop = container.scrollHeight;
  else if (keepBottomDistance) container.scrollTop = container.scrollHeight - fromBottom;
  // Nothing to scroll on a tall screen: the next page now, as scrolling up would ask for it.
  if (conversation?.hasMore && container.scrollHeight <= container.clientHeight) loadOlder();
}

function messageActions(message) {
  return {
    mine: message.sender_id === state.me?.id,
    onEdit: editMessage,
    onDelete: deleteMessage,
    loadImage: (url) => session.blobUrl(url),
    download: (attachment) => attempt(async () => {
      const url = await session.blobUrl(attachment.url);
      const link = h('a', { href: url, download: attachment.filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    }),
  };
}

// ---- read receipts ------------------------------------------------------------------------------------

async function loadMembers(conversation) {
  if (conversation.kind === 'direct') {
    // A direct conversation has no member list to read: the partner's marker is learnt from read events and sends.
    const partner = conversation.partner;
    conversation.members ??= new Map(partner ? [[partner.id, { user_id: partner.id, username: partner.username, last_read_seq: 0 }]] : []);
    return;
  }
  try {
    const members = await session.request('GET', `/api/v1/chatrooms/${conversation.chatroom_id}/members`);
    conversation.members = new Map(members.map((m) => [m.user_id, m]));
    if (conversation === current()) renderReceipts(conversation);
  } catch (error) {
    if (error.status !== 404) showError(error);
  }
}

function readMoved(frame) {
  const conversation = state.conversations.get(frame.chatroom_id);
  if (!conversation) return;
  if (frame.user_id === state.me.id) {
    conversation.last_read_seq = Math.max(conversation.last_read_seq ?? 0, frame.seq);
    conversation.unread_count = Math.max(0, Math.min(conversation.unread_count ?? 0, (conversation.last_seq ?? 0) - frame.seq));
    renderConversations();
  }
  const member = conversation.members?.get(frame.user_id);
  if (member && frame.seq > (member.last_read_seq ?? 0)) {
    member.last_read_seq = frame.seq;
    if (conversation === current()) renderReceipts(conversation);
  }
}

/** "Seen by …" under the newest message each other member has read, not counting their own. */
function renderReceipts(conversation) {
  const seenAt = new Map(); // seq -> names
  if (conversation?.members && conversation.messages.size > 0) {
    const messages = [...conversation.messages.values()].sort((a, b) => a.seq - b.seq);
    for (const member of conversation.members.values()) {
      if (member.user_id === state.me.id || !member.last_read_seq) continue;
      const seq = messages.findLast((m) => m.seq <= member.last_read_seq && m.sender_id !== member.user_id)?.seq;
      if (seq === undefined) continue;
      seenAt.set(seq, [...(seenAt.get(seq) ?? []), member.username]);
    }
  }
  for (const [key, entry] of elements) {
    const receipt = entry.element.querySelector('.receipt');
    const names = key.startsWith('s') ? seenAt.get(Number(key.slice(1))) : undefined;
    receipt.hidden = !names;
    receipt.textContent = names ? `Seen by ${names.join(', ')}` : '';
  }
}

let readTimer = 0;
let readSentAt = 0;

/**
 * Moves our read marker to the newest message of the open conversation while the page is visible: at most one
 * marker every READ_EVERY_MS (markers count against the server's write limit), the last one carrying the newest seq.
 */
function markRead() {
  if (readTimer) return;
  readTimer = setTimeout(() => {
    readTimer = 0;
    const conversation = current();
    if (!conversation || document.visibilityState !== 'visible') return;
    const seq = conversation.last_seq ?? 0;
    const moved = seq > (conversation.last_read_seq ?? 0);
    if (!moved && !conversation.unread_count) return;
    conversation.last_read_seq = Math.max(seq, conversation.last_read_seq ?? 0);
    conversation.unread_count = 0;
    renderConversations();
    if (!moved) return;
    readSentAt = Date.now();
    session.request('POST', `/api/v1/chatrooms/${conversation.chatroom_id}/read`, { seq })
      .catch((error) => { if (!error.retryable) showError(error); }); // a lost marker moves with the next one
  }, Math.max(200, READ_EVERY_MS - (Date.now() - readSentAt)));
}

document.addEventListener('visibilitychange', () => markRead());

// ---- typing -------------------------------------------------------------------------------------------

let typingSentAt = 0;
byId('message-input').addEventListener('input', () => {
  const conversation = current();
  if (!conversation || Date.now() - typingSentAt < TYPING_SEND_EVERY_MS) return;
  if (live.send({ type: 'typing', chatroom_id: conversation.chatroom_id })) typingSentAt = Date.now();
});

function typing(frame) {
  const conversation = state.conversations.get(frame.chatroom_id);
  if (!conversation || frame.user_id === state.me.id) return;
  clearTimeout(conversation.typing.get(frame.user_id)?.timer);
  const timer = setTimeout(() => {
    conversation.typing.delete(frame.user_id);
    if (conversation === current()) renderTyping();
  }, TYPING_SHOWN_MS);
  conversation.typing.set(frame.user_id, { username: frame.username, timer });
  if (conversation === current()) renderTyping();
}

function renderTyping() {
  const names = [...(current()?.typing.values() ?? [])].map((t) => t.username);
  byId('typing').textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
}

// ---- sending, editing, deleting -----------------------------------------------------------------------

byId('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId('message-input');
  const content = input.value;
  if (!content.trim()) return;
  input.value = '';
  typingSentAt = 0;
  send(content);
});

byId('message-input').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    byId('composer').requestSubmit();
  }
});

/**
 * Shown at once as "Sending…", then sent over REST with a client_message_id and tried again with the same id
 * (after back-off, or as soon as the browser is online) until the server answers: a retry is never stored twice.
 * A conversation's sends go one after the other, so they are stored in the order they were written.
 */
function send(content) {
  const target = current() ?? state.draft;
  if (!target) return;
  const pending = {
    client_message_id: randomId(), content, pending: 'sending',
    sender_id: state.me.id, sender_username: state.me.username, created_at: new Date().toISOString(),
  };
  target.pending ??= new Map();
  target.pending.set(pending.client_message_id, pending);
  renderMessages({ toBottom: true });
  target.sending = (target.sending ?? Promise.resolve()).then(() => deliver(target, pending));
}

async function deliver(target, pending) {
  const { content } = pending;
  const request = target.chatroom_id
    ? ['POST', `/api/v1/chatrooms/${target.chatroom_id}/messages`, { content, client_message_id: pending.client_message_id }]
    : ['POST', '/api/v1/messages/dm', { recipient_id: target.partner.id, content, client_message_id: pending.client_message_id }];
  for (let tries = 0; ; tries++) {
    try {
      const message = await session.request(...request);
      return sent(target, message);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.retryable) {
        // Refused: the text goes back into the box, to be fixed and sent again.
        for (const holder of [target, ...state.conversations.values()]) holder.pending?.delete(pending.client_message_id);
        renderMessages();
        const input = byId('message-input');
        if (!input.value) input.value = content;
        return showError(error);
      }
      pending.pending = 'retrying';
      renderMessages();
      await sleepUntilOnline(Math.max(backoff(tries), (error.retryAfterSeconds ?? 0) * 1000));
    }
  }
}

async function sent(target, message) {
  // The first message of a direct conversation created it.
  if (!state.conversations.has(message.chatroom_id)) await attempt(reloadConversations);
  const conversation = state.conversations.get(message.chatroom_id);
  if (!conversation) return;
  if (!target.chatroom_id) {
    // Every send of the draft moves over, the ones still on their way too.
    for (const [id, other] of target.pending) conversation.pending.set(id, other);
    target.pending.clear();
    if (!conversation.loaded) {
      // New: what the partner may have written meanwhile is fetched from the start (the gap before our seq).
      conversation.loaded = true;
      conversation.contiguous = 0;
      conversation.hasMore = false;
    }
    if (state.draft === target) {
      state.draft = null;
      state.openId = conversation.chatroom_id;
      history.replaceState(null, '', `#c=${conversation.chatroom_id}`);
      renderHeader();
      loadMembers(conversation);
    }
  }
  received([message], true);
  conversation.pending.delete(message.client_message_id);
  if (conversation === current()) renderMessages({ toBottom: true });
}

function editMessage(message, item) {
  const form = h('form', { class: 'edit stack' },
    h('label', {}, 'New text', h('textarea', { name: 'content', rows: 3, maxLength: 4000, required: true, value: message.content })),
    h('p', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', onclick: () => renderMessagesAfterEdit(item) }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const content = new FormData(form).get('content');
    await attempt(async () => {
      const updated = await session.request('PATCH', `/api/v1/messages/${message.id}`, { content });
      received([updated], false);
    });
  });
  const content = item.querySelector('.content');
  if (content) content.replaceWith(form);
  else item.querySelector('.meta').after(form);
  item.querySelector('.actions').hidden = true;
  form.querySelector('textarea').focus();
}

function renderMessagesAfterEdit(item) {
  const entry = [...elements.values()].find((e) => e.element === item);
  if (entry) entry.version = 'stale';
  renderMessages();
}

function deleteMessage(message) {
  if (!confirm('Delete this message?')) return;
  attempt(async () => {
    await session.request('DELETE', `/api/v1/messages/${message.id}`);
    received([{ ...message, content: '', deleted_at: new Date().toISOString() }], false);
  });
}

// ---- rooms and people ---------------------------------------------------------------------------------

byId('new-room-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  await attempt(async () => {
    const room = await session.request('POST', '/api/v1/chatrooms', {
      name: form.get('name').trim(),
      description: form.get('description').trim() || null,
      is_private: form.get('is_private') === 'on',
    });
    event.target.reset();
    byId('new-room-panel').open = false;
    await reloadConversations();
    await openConversation(room.id);
  });
});

let publicRoomsCursor = null;
byId('public-rooms-panel').addEventListener('toggle', (event) => {
  if (event.target.open) attempt(() => loadPublicRooms(true));
});
byId('more-public-rooms').addEventListener('click', () => attempt(() => loadPublicRooms(false)));

async function loadPublicRooms(first) {
  if (first) publicRoomsCursor = null;
  const query = new URLSearchParams({ scope: 'public', limit: '20' });
  if (publicRoomsCursor) query.set('before', publicRoomsCursor);
  const page = await session.request('GET', `/api/v1/chatrooms?${query}`);
  const items = page.items.map((room) => h('li', {},
    h('span', { class: 'name' }, room.name),
    h('span', { class: 'hint' }, ` ${room.member_count} member${room.member_count === 1 ? '' : 's'}`),
    ' ',
    state.conversations.has(room.id)
      ? h('button', { type: 'button', onclick: () => openConversation(room.id) }, 'Open', h('span', { class: 'visually-hidden' }, ` ${room.name}`))
      : h('button', { type: 'button', onclick: () => joinRoom(room.id) }, 'Join', h('span', { class: 'visually-hidden' }, ` ${room.name}`))));
  if (first) byId('public-rooms').replaceChildren(...items);
  else byId('public-rooms').append(...items);
  if (first && items.length === 0) byId('public-rooms').append(h('li', { class: 'hint' }, 'No public rooms yet.'));
  publicRoomsCursor = page.items.at(-1)?.id ?? null;
  byId('more-public-rooms').hidden = !page.has_more;
}

async function joinRoom(roomId) {
  await attempt(async () => {
    await session.request('POST', `/api/v1/chatrooms/${roomId}/join`);
    await reloadConversations();
    await openConversation(roomId);
    await loadPublicRooms(true);
  });
}

let searchTimer = 0;
byId('user-search').addEventListener('input', (event) => {
  clearTimeout(searchTimer);
  const query = event.target.value.trim();
  searchTimer = setTimeout(() => attempt(() => searchUsers(query)), 250);
});
byId('user-search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  clearTimeout(searchTimer);
  attempt(() => searchUsers(byId('user-search').value.trim()));
});

async function searchUsers(query) {
  const results = byId('user-results');
  if (!query) return results.replaceChildren();
  const users = await session.request('GET', `/api/v1/users?${new URLSearchParams({ query, limit: '10' })}`);
  const others = users.filter((u) => u.id !== state.me.id);
  results.replaceChildren(...others.map((user) => h('li', {},
    h('button', { type: 'button', onclick: () => openDraft(user) }, 'Message ', user.username))));
  if (others.length === 0) results.append(h('li', { class: 'hint' }, `Nobody found for “${query}”.`));
  return undefined;
}

// ---- start --------------------------------------------------------------------------------------------

if (session.signedIn) enter();
else showSignedOut();
