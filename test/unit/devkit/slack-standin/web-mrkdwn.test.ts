import { describe, expect, it } from 'vitest';
import { escapeHtml, mrkdwnToHtml, plainTextToHtml, safeImageUrl, safeLinkUrl, textObjectToHtml } from '../../../../devkit/slack-standin/web/mrkdwn.js';

const names = {
  user: (id: string) => ({ U0ALICE: 'alice', U0BOB: 'bob' })[id] ?? id,
  channel: (id: string) => ({ C0INC: 'inc-db' })[id] ?? id,
};
const link = (href: string, text: string) => `<a href="${href}" target="_blank" rel="noopener noreferrer">${text}</a>`;
const mention = (kind: string, text: string) => `<span class="mention ${kind}">${text}</span>`;

describe('mrkdwnToHtml', () => {
  const cases: Array<[string, string, string]> = [
    ['plain text', 'plain', 'plain'],
    ['bold', '*bold*', '<strong>bold</strong>'],
    ['italic', '_it_', '<em>it</em>'],
    ['strike', '~gone~', '<del>gone</del>'],
    ['no italic inside snake_case words', 'pitr_2025_01 and snake_case_name', 'pitr_2025_01 and snake_case_name'],
    ['no bold inside arithmetic', '2*3*4', '2*3*4'],
    ['no style across lines', '*a\nb*', '*a<br>b*'],
    ['inline code, escaped, unstyled', '`a < b *c*`', '<code>a &lt; b *c*</code>'],
    ['code block', '```\nSELECT 1;\n<b>```', '<pre>SELECT 1;\n&lt;b&gt;</pre>'],
    ['code block keeps mentions literal', '```<@U0ALICE>```', '<pre>&lt;@U0ALICE&gt;</pre>'],
    ['link with text', '<https://example.com/a?b=1&amp;c=2|the docs>', link('https://example.com/a?b=1&amp;c=2', 'the docs')],
    ['bare link', '<https://x.org>', link('https://x.org', 'https://x.org')],
    ['mailto link', '<mailto:a@b.c|mail>', link('mailto:a@b.c', 'mail')],
    ['link label is text', '<https://e.com|a *b* <i>>', '&lt;https://e.com|a <strong>b</strong> &lt;i&gt;&gt;'],
    ['user mention', '<@U0ALICE>', mention('user', '@alice')],
    ['unknown user mention shows the id', '<@U0ZED>', mention('user', '@U0ZED')],
    ['channel link', '<#C0INC>', mention('channel', '#inc-db')],
    ['channel link with name', '<#C0INC|incident>', mention('channel', '#incident')],
    ['broadcast', '<!here>', mention('broadcast', '@here')],
    ['usergroup', '<!subteam^S0DBA>', mention('usergroup', '@S0DBA')],
    ['date with fallback', '<!date^1392734382^{date}|Feb 18, 2014>', 'Feb 18, 2014'],
    ['bold mention', '*<@U0BOB>* approved', `<strong>${mention('user', '@bob')}</strong> approved`],
    ['emoji the bot uses', ':white_check_mark: done :not_an_emoji:', '✅ done :not_an_emoji:'],
    ['times are not emoji', '14:29:58', '14:29:58'],
    ['line breaks', 'a\nb', 'a<br>b'],
    ['progress bar', 'replay [#####-----] 51% done', 'replay <meter class="progress" min="0" max="100" value="51"></meter> [#####-----] 51% done'],
    ["Slack's escapes show as the characters", '&lt;b&gt; &amp;amp;', '&lt;b&gt; &amp;amp;'],
  ];
  it.each(cases)('%s', (_, input, html) => {
    expect(mrkdwnToHtml(input, names)).toBe(html);
  });
});

describe('mrkdwnToHtml with hostile text', () => {
  const cases: Array<[string, string, string]> = [
    ['a script tag', '<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['an img with onerror', '<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['a javascript: link', '<javascript:alert(1)|click>', '&lt;javascript:alert(1)|click&gt;'],
    ['a data: link', '<data:text/html;base64,PHNjcmlwdD4=|x>', '&lt;data:text/html;base64,PHNjcmlwdD4=|x&gt;'],
    ['a link breaking out of href', '<https://ok.example/"onmouseover=alert(1)|x>', '&lt;https://ok.example/&quot;onmouseover=alert(1)|x&gt;'],
    ['quotes and ampersands', `"q" & 'x'`, '&quot;q&quot; &amp; &#39;x&#39;'],
    ['forged hold markers', 'x\u00000\u0001y', 'x0y'],
    ['a script inside bold', '*<script>x</script>*', '<strong>&lt;script&gt;x&lt;/script&gt;</strong>'],
    ['a closing pre inside a code block', '```</pre><script>x</script>```', '<pre>&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;</pre>'],
    ['an escaped script (as the bot sends it)', '&lt;script&gt;', '&lt;script&gt;'],
  ];
  it.each(cases)('%s', (_, input, html) => {
    const out = mrkdwnToHtml(input, names);
    expect(out).toBe(html);
    // The only tags are the renderer's own.
    expect(out.replace(/<\/?(strong|em|del|code|pre|br|span|meter)\b[^<>]*>/g, '')).not.toContain('<');
  });
});

describe('plain text and text objects', () => {
  const cases: Array<[string, unknown, string]> = [
    ['plain_text shows markup characters literally', { type: 'plain_text', text: '<b>*x*</b> :x:' }, '&lt;b&gt;*x*&lt;/b&gt; ❌'],
    ['plain_text without emoji', { type: 'plain_text', text: ':x:', emoji: false }, ':x:'],
    ['plain_text does not read Slack escapes', { type: 'plain_text', text: '&lt;' }, '&amp;lt;'],
    ['mrkdwn object', { type: 'mrkdwn', text: '*b*' }, '<strong>b</strong>'],
    ['a bare string is mrkdwn', '_i_', '<em>i</em>'],
    ['not a text object', { type: 'mrkdwn' }, ''],
    ['nothing', undefined, ''],
  ];
  it.each(cases)('%s', (_, value, html) => {
    expect(textObjectToHtml(value, names)).toBe(html);
  });

  it('plainTextToHtml keeps line breaks', () => {
    expect(plainTextToHtml('a\nb')).toBe('a<br>b');
  });

  it('escapeHtml escapes every character that makes markup or ends an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('safe URLs', () => {
  const links: Array<[string, string | undefined]> = [
    ['https://example.com/x', 'https://example.com/x'],
    ['http://127.0.0.1:3000/', 'http://127.0.0.1:3000/'],
    ['mailto:a@b.c', 'mailto:a@b.c'],
    ['javascript:alert(1)', undefined],
    ['JAVASCRIPT:alert(1)', undefined],
    ['data:text/html,x', undefined],
    ['/relative', undefined],
    ['https://e.com/"x', undefined],
  ];
  it.each(links)('link %s', (url, safe) => expect(safeLinkUrl(url)).toBe(safe));

  const images: Array<[string, string | undefined]> = [
    ['https://example.com/chart.png', 'https://example.com/chart.png'],
    ['data:image/png;base64,iVBORw0KGgo=', 'data:image/png;base64,iVBORw0KGgo='],
    ['data:image/svg+xml;base64,PHN2Zz4=', undefined],
    ['data:text/html;base64,PHNjcmlwdD4=', undefined],
    ['javascript:alert(1)', undefined],
  ];
  it.each(images)('image %s', (url, safe) => expect(safeImageUrl(url)).toBe(safe));
});
