/**
 * The web view's script (served as /web/app.js), plain browser JavaScript with no framework:
 * it fetches the state (HTML made on the server by channel-html.ts, already escaped) whenever
 * the stand-in announces a change over server-sent events, and turns what the person does —
 * the composer, a button (after its confirmation dialog), a modal's submit or close, the
 * acting-user picker — into POSTs to /web/*. It never builds markup from text itself.
 */
export const PAGE_SCRIPT = String.raw`'use strict';
const $ = (selector) => document.querySelector(selector);
const query = new URLSearchParams(location.search);
const session = { user: query.get('user') || '', channel: query.get('channel') || '' };
let loading = false;
let again = false;
let shown = { channel: null, modal: null, lists: '' };

function notice(text, isError) {
  const box = $('#notice');
  box.textContent = text || '';
  box.className = isError ? 'error' : 'info';
  box.hidden = !text;
}

async function post(action, body) {
  document.body.dataset.busy = 'true';
  try {
    const response = await fetch('/web/' + action, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.assign({ user: session.user }, body)),
    });
    const answer = await response.json().catch(() => ({ ok: false, error: 'HTTP ' + response.status }));
    if (!answer.ok) notice(answer.error, true);
    else if (answer.timedOut) notice('The app did not answer within 3 s (Slack shows operation_timeout).', true);
    else if (answer.status !== undefined && answer.status !== 200) notice('The app answered HTTP ' + answer.status + '.', true);
    else notice('');
    return answer;
  } catch (error) {
    notice('Could not reach the stand-in: ' + error.message, true);
    return { ok: false };
  } finally {
    delete document.body.dataset.busy;
    refresh();
  }
}

async function refresh() {
  if (loading) { again = true; return; }
  loading = true;
  try {
    do {
      again = false;
      const response = await fetch('/web/state?' + new URLSearchParams({ user: session.user, channel: session.channel }));
      apply(await response.json());
    } while (again);
  } catch (error) {
    notice('Could not reach the stand-in: ' + error.message, true);
  } finally {
    loading = false;
  }
}

function option(value, text, selected) {
  const element = document.createElement('option');
  element.value = value;
  element.textContent = text;
  element.selected = selected;
  return element;
}

function renderLists(state) {
  $('#acting-user').replaceChildren(...state.users.map((u) => option(u.id, '@' + u.name + ' (' + u.realName + ')', u.id === state.user)));
  $('#channels').replaceChildren(...state.channels.map((c) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'channel' + (c.id === state.channel ? ' current' : '');
    button.dataset.channelId = c.id;
    button.textContent = (c.isPrivate ? '🔒 ' : '# ') + c.name;
    return button;
  }));
  const current = state.channels.find((c) => c.id === state.channel);
  $('#channel-name').textContent = '#' + (current ? current.name : state.channel);
  $('#team').textContent = state.team;
}

/** What the person typed into the open modal, to keep it when the modal is redrawn. */
function typedValues() {
  const form = document.querySelector('#modal form[data-view-id]');
  if (!form) return { view: null, values: {} };
  const values = {};
  for (const field of form.querySelectorAll('[data-input="one"]')) values[field.dataset.blockId + '/' + field.dataset.actionId] = field.value;
  return { view: form.dataset.viewId, values };
}

function restoreTyped(kept) {
  const form = document.querySelector('#modal form[data-view-id]');
  if (!form || form.dataset.viewId !== kept.view) return;
  for (const field of form.querySelectorAll('[data-input="one"]')) {
    const key = field.dataset.blockId + '/' + field.dataset.actionId;
    if (key in kept.values) field.value = kept.values[key];
  }
}

function apply(state) {
  session.user = state.user;
  session.channel = state.channel;
  history.replaceState(null, '', '?' + new URLSearchParams({ user: state.user, channel: state.channel }));
  const lists = JSON.stringify([state.users, state.channels, state.user, state.channel, state.team]);
  if (lists !== shown.lists) { shown.lists = lists; renderLists(state); }
  const messages = $('#messages');
  if (state.channelHtml !== shown.channel) {
    const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
    shown.channel = state.channelHtml;
    messages.innerHTML = state.channelHtml;
    if (atBottom) messages.scrollTop = messages.scrollHeight;
  }
  if (state.modalHtml !== shown.modal) {
    const kept = typedValues();
    shown.modal = state.modalHtml;
    $('#modal').innerHTML = state.modalHtml;
    restoreTyped(kept);
  }
  document.body.dataset.version = String(state.version);
}

function collect(form) {
  const values = {};
  for (const field of form.querySelectorAll('[data-input]')) {
    const kind = field.dataset.input;
    let value;
    if (kind === 'many') value = [...field.selectedOptions].map((o) => o.value);
    else if (kind === 'checks') value = [...field.querySelectorAll('input:checked')].map((i) => i.value);
    else if (kind === 'radio') value = (field.querySelector('input:checked') || { value: '' }).value;
    else value = field.value;
    // Left empty: absent, and the stand-in sends Slack's null for it.
    if (value === '' || (Array.isArray(value) && value.length === 0)) continue;
    (values[field.dataset.blockId] = values[field.dataset.blockId] || {})[field.dataset.actionId] = value;
  }
  return values;
}

function click(button) {
  const body = { actionId: button.dataset.actionId };
  if (button.dataset.value !== undefined) body.value = button.dataset.value;
  const view = button.closest('[data-view-id]');
  const message = button.closest('[data-ts]');
  if (view) body.viewId = view.dataset.viewId;
  else { body.channel = message.dataset.channel; body.messageTs = message.dataset.ts; }
  return post('click', body);
}

function confirmThen(template, action) {
  const dialog = template.content.firstElementChild.cloneNode(true);
  dialog.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    event.stopPropagation();
    dialog.remove();
    if (button.hasAttribute('data-confirm')) action();
  });
  document.body.append(dialog);
}

document.addEventListener('click', (event) => {
  const button = event.target.closest('button');
  if (!button) return;
  if (button.dataset.channelId) {
    session.channel = button.dataset.channelId;
    refresh();
  } else if (button.hasAttribute('data-close')) {
    post('close', { viewId: button.closest('form[data-view-id]').dataset.viewId });
  } else if (button.dataset.actionId) {
    const wrapper = button.parentElement;
    const template = wrapper.classList.contains('with-confirm') ? wrapper.querySelector('template.confirm') : null;
    if (template) confirmThen(template, () => click(button));
    else click(button);
  }
});

document.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  if (form.id === 'composer') {
    const input = $('#command-line');
    const line = input.value.trim();
    if (!line) return;
    const answer = await post('command', { channel: session.channel, line });
    if (answer.ok) input.value = '';
  } else if (form.dataset.viewId) {
    post('submit', { viewId: form.dataset.viewId, values: collect(form) });
  }
});

$('#acting-user').addEventListener('change', (event) => {
  session.user = event.target.value;
  refresh();
});

const events = new EventSource('/web/events');
events.onmessage = () => refresh();
events.onopen = () => { $('#connection').textContent = 'live'; $('#connection').className = 'live'; };
events.onerror = () => { $('#connection').textContent = 'reconnecting…'; $('#connection').className = 'down'; };
refresh();
`;
