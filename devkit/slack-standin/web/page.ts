/**
 * The web view's page: a channel list, the acting-user picker, the messages, a composer for
 * slash commands and a layer for modals. Static: everything it shows comes from /web/state,
 * fetched by page-script.ts (served as /web/app.js; the page's CSP allows no inline script).
 */
export { PAGE_SCRIPT } from './page-script.js';

const STYLE = `
:root { --line: #ddd; --muted: #616061; --accent: #1264a3; --green: #007a5a; --red: #e01e5a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1d1c1d;
  display: grid; grid-template-columns: 220px 1fr; grid-template-rows: auto 1fr; height: 100vh; }
header.top { grid-column: 1 / 3; display: flex; gap: 16px; align-items: center; padding: 8px 16px; background: #3f0e40; color: #fff; }
header.top select { font-size: 14px; }
#connection { margin-left: auto; font-size: 12px; } #connection.down { color: #f7a; }
nav#channels { background: #f4ede4; padding: 8px; overflow-y: auto; border-right: 1px solid var(--line); }
nav#channels .channel { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 4px 8px; border-radius: 4px; cursor: pointer; font-size: 15px; }
nav#channels .channel.current { background: var(--accent); color: #fff; }
main { display: flex; flex-direction: column; min-height: 0; }
#messages { flex: 1; overflow-y: auto; padding: 8px 16px; }
.message { padding: 6px 0; border-bottom: 1px solid #f2f2f2; }
.message.ephemeral { background: #f8f8ff; border-left: 3px solid #a0a0ff; padding-left: 8px; }
.meta { font-size: 13px; color: var(--muted); } .meta .author { font-weight: 700; color: #1d1c1d; font-size: 15px; }
.tag { background: #e8e8e8; border-radius: 3px; font-size: 10px; padding: 0 3px; font-weight: 700; }
.only-you { font-style: italic; }
.thread { margin: 6px 0 0 24px; border-left: 2px solid var(--line); padding-left: 12px; }
.thread-count { color: var(--accent); font-size: 13px; font-weight: 700; }
.block { margin: 4px 0; } h3.header { font-size: 18px; margin: 6px 0; }
.section { display: flex; gap: 12px; } .section-main { flex: 1; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; margin-top: 4px; }
.context { color: var(--muted); font-size: 13px; } hr.divider { border: 0; border-top: 1px solid var(--line); }
code { background: #f6f6f6; border: 1px solid #e5e5e5; border-radius: 3px; padding: 0 3px; color: #c01343; font-size: 13px; }
pre { background: #f8f8f8; border: 1px solid #e5e5e5; border-radius: 4px; padding: 8px; white-space: pre-wrap; font-size: 13px; }
.mention { background: #e8f5fa; color: var(--accent); border-radius: 3px; padding: 0 2px; }
.btn { border: 1px solid #bbb; background: #fff; border-radius: 4px; padding: 4px 12px; font-weight: 700; cursor: pointer; font-size: 14px; }
.btn.primary { background: var(--green); border-color: var(--green); color: #fff; }
.btn.danger { color: var(--red); border-color: var(--red); }
body[data-busy] .btn { cursor: progress; }
.files img, .block-image { max-width: 480px; max-height: 360px; border: 1px solid var(--line); border-radius: 4px; display: block; }
.inline-image { height: 20px; vertical-align: middle; } .unsupported, .missing { color: var(--muted); font-style: italic; }
#notice { margin: 0 16px; padding: 6px 10px; border-radius: 4px; } #notice.error { background: #fde8ec; color: #8a0b2e; }
#composer { display: flex; gap: 8px; padding: 8px 16px 16px; }
#command-line { flex: 1; font: 15px monospace; padding: 8px; border: 1px solid #999; border-radius: 6px; }
.modal-backdrop, .dialog-backdrop { position: fixed; inset: 0; background: rgba(0,0,0,.45); display: flex; align-items: center; justify-content: center; z-index: 10; }
.dialog-backdrop { z-index: 20; }
.modal, .dialog { background: #fff; border-radius: 8px; width: min(560px, 94vw); max-height: 90vh; overflow-y: auto; padding: 16px 20px; box-shadow: 0 8px 30px rgba(0,0,0,.3); }
.modal-title { font-size: 20px; font-weight: 700; margin-bottom: 8px; } .stack-depth { font-size: 12px; color: var(--muted); }
.modal-buttons, .dialog-buttons { display: flex; justify-content: flex-end; gap: 8px; margin-top: 12px; }
.input { display: flex; flex-direction: column; gap: 4px; margin: 10px 0; } .input-label { font-weight: 700; }
.input input[type=text], .input textarea, .input select, .input input { font-size: 15px; padding: 6px; }
.hint, .optional { color: var(--muted); font-size: 13px; } .field-error { color: var(--red); font-size: 13px; }
.empty { color: var(--muted); } meter.progress { width: 140px; vertical-align: middle; }
`;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Slack stand-in — recover-bot</title>
<style>${STYLE}</style>
<script src="/web/app.js" defer></script>
</head>
<body>
<header class="top">
  <strong>Slack stand-in</strong> <span id="team"></span> <span id="channel-name"></span>
  <label>Acting as <select id="acting-user" aria-label="Acting user"></select></label>
  <span id="connection">connecting…</span>
</header>
<nav id="channels" aria-label="Channels"></nav>
<main>
  <div id="messages" aria-live="polite"></div>
  <div id="notice" role="alert" hidden></div>
  <form id="composer" autocomplete="off">
    <input id="command-line" aria-label="Slash command" placeholder="/recover help">
    <button type="submit" class="btn primary">Send</button>
  </form>
</main>
<div id="modal"></div>
</body>
</html>
`;
