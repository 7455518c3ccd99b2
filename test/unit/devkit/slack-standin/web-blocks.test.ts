import { describe, expect, it } from 'vitest';
import { blocksHtml, type BlockContext } from '../../../../devkit/slack-standin/web/blocks-html.js';
import { channelHtml, filesHtml, modalHtml, type WebMessage } from '../../../../devkit/slack-standin/web/channel-html.js';
import type { TranscriptView } from '../../../../devkit/slack-standin/view-store.js';

const context: BlockContext = { names: { user: (id) => ({ U0ALICE: 'alice', U0BOB: 'bob', U0BOT: 'recover-bot' })[id] ?? id, channel: (id) => id } };
const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

describe('blocksHtml', () => {
  const cases: Array<[string, unknown[], string]> = [
    ['header', [{ type: 'header', text: plain('Plan: <pitr>') }], '<h3 class="block header">Plan: &lt;pitr&gt;</h3>'],
    ['divider', [{ type: 'divider' }], '<hr class="block divider">'],
    ['section text', [{ type: 'section', text: mrkdwn('*Risk:* low') }], '<div class="block section"><div class="section-main"><div class="text"><strong>Risk:</strong> low</div></div></div>'],
    ['section fields', [{ type: 'section', fields: [mrkdwn('*A*'), plain('b')] }], '<div class="block section"><div class="section-main"><div class="fields"><div class="field"><strong>A</strong></div><div class="field">b</div></div></div></div>'],
    ['context', [{ type: 'context', elements: [mrkdwn('`job`'), plain('x')] }], '<div class="block context"><span><code>job</code></span> <span>x</span></div>'],
    [
      'actions with styled buttons',
      [{ type: 'actions', block_id: 'approval:ab', elements: [{ type: 'button', action_id: 'go', text: plain('Approve'), value: 'r1', style: 'primary' }, { type: 'button', action_id: 'no', text: plain('Later') }] }],
      '<div class="block actions" data-block-id="approval:ab"><button type="button" class="btn primary" data-action-id="go" data-value="r1">Approve</button> <button type="button" class="btn" data-action-id="no">Later</button></div>',
    ],
    [
      'button with a confirmation dialog',
      [{ type: 'actions', elements: [{ type: 'button', action_id: 'rej', text: plain('Reject'), style: 'danger', confirm: { title: plain('Sure?'), text: mrkdwn('*Nothing* runs'), confirm: plain('Reject'), deny: plain('Keep it') } }] }],
      '<div class="block actions" data-block-id="standin-block-0"><span class="with-confirm"><button type="button" class="btn danger" data-action-id="rej">Reject</button>'
        + '<template class="confirm"><div class="dialog-backdrop"><div class="dialog" role="alertdialog"><h4>Sure?</h4><div class="dialog-text"><strong>Nothing</strong> runs</div>'
        + '<div class="dialog-buttons"><button type="button" class="btn" data-deny>Keep it</button><button type="button" class="btn primary" data-confirm>Reject</button></div></div></div></template></span></div>',
    ],
    ['attribute values are escaped', [{ type: 'actions', elements: [{ type: 'button', action_id: 'a"><script>', text: plain('x'), value: `'"` }] }], '<div class="block actions" data-block-id="standin-block-0"><button type="button" class="btn" data-action-id="a&quot;&gt;&lt;script&gt;" data-value="&#39;&quot;">x</button></div>'],
    ['image', [{ type: 'image', image_url: 'https://e.com/c.png', alt_text: 'RTO "chart"' }], '<figure class="block image"><img class="block-image" src="https://e.com/c.png" alt="RTO &quot;chart&quot;"></figure>'],
    ['image with an unsafe URL', [{ type: 'image', image_url: 'javascript:alert(1)', alt_text: 'x' }], '<figure class="block image"><span class="block-image missing">[image: x]</span></figure>'],
    ['unsupported element', [{ type: 'actions', elements: [{ type: 'static_select', action_id: 's', placeholder: plain('Pick') }] }], '<div class="block actions" data-block-id="standin-block-0"><span class="element unsupported">[static_select: Pick]</span></div>'],
    ['unknown block', [{ type: 'video' }], '<div class="block unsupported">[video block]</div>'],
    ['not blocks', 'nope' as unknown as unknown[], ''],
  ];
  it.each(cases)('%s', (_, blocks, html) => {
    expect(blocksHtml(blocks, context)).toBe(html);
  });
});

describe('input blocks in modals', () => {
  const input = (element: object, extra: object = {}) => [{ type: 'input', block_id: 'b', label: plain('Name'), element, ...extra }];
  const cases: Array<[string, unknown[], BlockContext, string[]]> = [
    ['required text input', input({ type: 'plain_text_input', action_id: 'a', placeholder: plain('aiagent_prod') }), context, ['<input type="text" data-input="one" data-block-id="b" data-action-id="a" value="" placeholder="aiagent_prod" required>']],
    ['optional multiline', input({ type: 'plain_text_input', action_id: 'a', multiline: true, initial_value: '<x>' }, { optional: true }), context, ['<textarea data-input="one" data-block-id="b" data-action-id="a">&lt;x&gt;</textarea>', '(optional)']],
    ['static select with an initial option', input({ type: 'static_select', action_id: 's', options: [{ text: plain('One'), value: '1' }, { text: plain('Two'), value: '2' }], initial_option: { text: plain('Two'), value: '2' } }), context, ['<select data-input="one" data-block-id="b" data-action-id="s" required><option value="">Choose…</option><option value="1">One</option><option value="2" selected>Two</option></select>']],
    ['checkboxes', input({ type: 'checkboxes', action_id: 'c', options: [{ text: plain('A'), value: 'a' }] }), context, ['<div class="choices" data-input="checks" data-block-id="b" data-action-id="c"><label class="choice"><input type="checkbox" name="b/c" value="a"> A</label></div>']],
    ['datepicker', input({ type: 'datepicker', action_id: 'd', initial_date: '2025-01-15' }), context, ['<input type="date" data-input="one" data-block-id="b" data-action-id="d" value="2025-01-15" required>']],
    ['users select', input({ type: 'users_select', action_id: 'u' }), { ...context, users: [['U0BOB', 'bob']] }, ['<option value="U0BOB">@bob</option>']],
    ['field error and hint', input({ type: 'plain_text_input', action_id: 'a' }, { hint: plain('Exactly') }), { ...context, errors: { b: 'type <exactly>' } }, ['class="block input has-error"', '<div class="hint">Exactly</div>', '<div class="field-error">type &lt;exactly&gt;</div>']],
    ['no block_id: the id the stand-in gives it', [{ type: 'input', label: plain('N'), element: { type: 'plain_text_input' } }], context, ['data-block-id="standin-block-0" data-action-id="standin-action-0"']],
  ];
  it.each(cases)('%s', (_, blocks, ctx, parts) => {
    const html = blocksHtml(blocks, ctx);
    for (const part of parts) expect(html).toContain(part);
  });
});

const message = (over: Partial<WebMessage>): WebMessage => ({ channel: 'C1', ts: '1700000000.000100', user: 'U0ALICE', text: 'hi', edits: [], deleted: false, ...over });
const articles = (html: string) => [...html.matchAll(/<article class="([^"]*)" data-channel="C1" data-ts="([^"]*)">/g)].map((m) => `${m[2]} ${m[1]}`);

describe('channelHtml', () => {
  const parent = message({ ts: '1700000000.000100', user: 'U0BOT', botId: 'B1', text: 'status', edits: [{ at: new Date(), text: 'queued' }] });
  const reply = message({ ts: '1700000000.000300', threadTs: parent.ts, user: 'U0BOT', botId: 'B1', text: 'Summary' });
  const later = message({ ts: '1700000000.000200', text: 'later top-level' });
  const ephemeralBob = message({ ts: '1700000000.000400', user: 'U0BOT', botId: 'B1', text: 'only bob', visibleTo: 'U0BOB' });
  const deleted = message({ ts: '1700000000.000500', text: 'gone', deleted: true });
  const orphan = message({ ts: '1700000000.000600', threadTs: '1600000000.000000', text: 'reply to a lost parent' });
  const all = [reply, ephemeralBob, later, deleted, parent, orphan];

  it('orders messages by ts, nests replies under their parent, hides others\' ephemerals and deleted messages', () => {
    expect(articles(channelHtml(all, context, 'U0ALICE'))).toEqual([
      '1700000000.000100 message bot', '1700000000.000300 message bot', '1700000000.000200 message', '1700000000.000600 message',
    ]);
    const html = channelHtml(all, context, 'U0ALICE');
    expect(html).toContain('<section class="thread" data-thread-ts="1700000000.000100"><div class="thread-count">1 reply</div>');
    expect(html).toContain('<span class="edited">(edited)</span>');
    expect(html).toContain('<span class="author">recover-bot</span> <span class="tag">APP</span> <time>22:13:20</time>');
    expect(html).not.toContain('only bob');
  });

  it('shows an ephemeral to the person it was sent to, marked', () => {
    const html = channelHtml(all, context, 'U0BOB');
    expect(articles(html)).toContain('1700000000.000400 message bot ephemeral');
    expect(html).toContain('<span class="only-you">Only visible to you</span>');
  });

  it('shows blocks instead of the notification text, and Slackbot by name', () => {
    const html = channelHtml([message({ user: 'USLACKBOT', text: 'fallback', blocks: [{ type: 'divider' }] })], context, 'U0ALICE');
    expect(html).toContain('<span class="author">Slackbot</span>');
    expect(html).toContain('<hr class="block divider">');
    expect(html).not.toContain('fallback');
  });

  it('says so when the channel is empty', () => {
    expect(channelHtml([], context, 'U0ALICE')).toContain('No messages yet');
  });
});

describe('filesHtml', () => {
  const png = Buffer.from('89504e470d0a1a0a', 'hex');
  const cases: Array<[string, unknown, string]> = [
    ['uploaded image: served by id, alt text from the upload', [{ id: 'F0 1', name: 'rto.png', title: 'RTO trend', mimetype: 'image/png', altText: 'RTO of 8 drills', bytes: png }], '<div class="files"><figure class="file"><figcaption>RTO trend</figcaption><img src="/web/files/F0%201" alt="RTO of 8 drills"></figure></div>'],
    ['image by URL', [{ title: 'RTO <trend>', url_private: 'https://files.example/rto.png' }], '<div class="files"><figure class="file"><figcaption>RTO &lt;trend&gt;</figcaption><img src="https://files.example/rto.png" alt="RTO &lt;trend&gt;"></figure></div>'],
    ['not an image: named only', [{ id: 'F1', name: 'report.csv', mimetype: 'text/csv', bytes: Buffer.from('a,b') }], '<div class="files"><figure class="file">📎 <figcaption>report.csv</figcaption></figure></div>'],
    ['an SVG is not shown', [{ id: 'F2', name: 'x.svg', mimetype: 'image/svg+xml', bytes: Buffer.from('<svg onload=alert(1)>') }], '<div class="files"><figure class="file">📎 <figcaption>x.svg</figcaption></figure></div>'],
    ['no bytes and no URL', [{ id: 'F3', name: 'gone.png', mimetype: 'image/png' }], '<div class="files"><figure class="file">📎 <figcaption>gone.png</figcaption></figure></div>'],
    ['no files', undefined, ''],
  ];
  it.each(cases)('%s', (_, files, html) => expect(filesHtml(files)).toBe(html));
});

describe('modalHtml', () => {
  const view = (definition: Record<string, unknown>): TranscriptView => ({
    id: 'V01', user: 'U0ALICE', hash: 'h', rootViewId: 'V01', definition, status: 'open', openedAt: new Date(), history: [], submissions: [],
  });

  it('renders title, blocks, close and submit as a form bound to the view', () => {
    const html = modalHtml(view({ type: 'modal', title: plain('Confirm <it>'), submit: plain('Request approval'), close: plain('Back'), blocks: [{ type: 'divider' }] }), context);
    expect(html).toBe('<div class="modal-backdrop"><form class="modal" data-view-id="V01"><header class="modal-title">Confirm &lt;it&gt; </header>'
      + '<div class="modal-body"><hr class="block divider"></div><footer class="modal-buttons"><button type="button" class="btn" data-close>Back</button>'
      + '<button type="submit" class="btn primary" data-submit>Request approval</button></footer></form></div>');
  });

  it('has only a Close button without submit, shows the stack depth, and nothing without a view', () => {
    const html = modalHtml(view({ type: 'modal', title: plain('Info'), blocks: [] }), context, 2);
    expect(html).toContain('<button type="button" class="btn" data-close>Close</button></footer>');
    expect(html).toContain('<span class="stack-depth">2 of 2</span>');
    expect(html).not.toContain('data-submit');
    expect(modalHtml(undefined, context)).toBe('');
  });
});
