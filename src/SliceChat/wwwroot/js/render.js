// How one message and one conversation look. Optional parts of the data (attachments, a partner's presence)
// are shown when present and skipped when absent.

import { h, hiddenText, timeElement } from './dom.js';

/**
 * A message as a list item. actions: {mine, onEdit(message), onDelete(message), loadImage(url) -> Promise<objectUrl>,
 * download(attachment)}.
 */
export function messageItem(message, actions) {
  const deleted = Boolean(message.deleted_at);
  const pending = message.pending;
  const item = h('li', {
    class: ['message', actions.mine && 'mine', deleted && 'deleted', pending && 'pending'].filter(Boolean).join(' '),
    dataset: { seq: message.seq ?? '', clientMessageId: message.client_message_id ?? '' },
  },
  h('p', { class: 'meta' },
    h('span', { class: 'sender' }, message.sender_username),
    ' ',
    message.created_at ? timeElement(message.created_at) : null,
    message.edited_at && !deleted ? h('span', { class: 'edited' }, ' (edited)') : null,
    pending ? h('span', { class: 'sending' }, pending === 'retrying' ? ' Not sent yet, retrying…' : ' Sending…') : null),
  deleted
    ? h('p', { class: 'content' }, h('em', {}, 'Message deleted'))
    : message.content ? h('p', { class: 'content' }, message.content) : null,
  deleted ? null : attachmentList(message.attachments, actions),
  actions.mine && !deleted && !pending
    ? h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'link', onclick: () => actions.onEdit(message, item) }, 'Edit', hiddenText(' this message')),
      h('button', { type: 'button', class: 'link', onclick: () => actions.onDelete(message) }, 'Delete', hiddenText(' this message')))
    : null,
  h('p', { class: 'receipt', hidden: true }));
  return item;
}

/** Image attachments as thumbnails (fetched with the bearer token), other files as download links. */
function attachmentList(attachments, actions) {
  if (!Array.isArray(attachments) || attachments.length === 0) return null;
  return h('ul', { class: 'attachments' }, attachments.map((attachment) => {
    const label = `${attachment.filename} (${formatSize(attachment.size)})`;
    if (attachment.thumbnail_url) {
      const image = h('img', { alt: attachment.filename, width: attachment.width ?? undefined, height: attachment.height ?? undefined });
      actions.loadImage(attachment.thumbnail_url).then((url) => { image.src = url; }).catch(() => { image.alt = `${attachment.filename} (preview unavailable)`; });
      return h('li', {}, h('button', { type: 'button', class: 'thumbnail', title: label, onclick: () => actions.download(attachment) }, image));
    }
    return h('li', {}, h('button', { type: 'button', class: 'link file', onclick: () => actions.download(attachment) }, label));
  }));
}

function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return 'file';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A conversation in the list: its name, a partner's online dot, its unread count and last message. */
export function conversationItem(conversation, { current, onOpen }) {
  const unread = conversation.unread_count ?? 0;
  const online = conversation.partner?.status === 'online';
  const last = conversation.last_message;
  return h('li', { class: ['conversation', current && 'current', unread > 0 && 'has-unread'].filter(Boolean).join(' ') },
    h('button', {
      type: 'button', 'aria-current': current ? 'true' : null, dataset: { chatroomId: conversation.chatroom_id },
      onclick: () => onOpen(conversation.chatroom_id),
    },
      h('span', { class: 'name' },
        online ? h('span', { class: 'online-dot', title: 'online' }, hiddenText('online, ')) : null,
        h('span', {}, conversation.name)),
      unread > 0 ? h('span', { class: 'unread' }, String(unread), hiddenText(' unread')) : null,
      last ? h('span', { class: 'preview' }, `${last.sender_username}: ${last.deleted_at ? 'message deleted' : (last.content || 'attachment')}`) : null));
}
