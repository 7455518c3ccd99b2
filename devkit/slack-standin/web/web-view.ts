/**
 * The channel as a local web page, served by the stand-in's HTTP server (127.0.0.1 only):
 *   GET  /                 the page (web/page.ts), GET /web/app.js its script
 *   GET  /web/state        the chosen channel and the modal as the acting user sees them (HTML)
 *   GET  /web/events       server-sent events: one per change of the transcript
 *   GET  /web/files/<id>   an uploaded image's bytes (files.completeUploadExternal)
 *   POST /web/command      a slash command typed by the acting user
 *   POST /web/click        a button in a message or a modal
 *   POST /web/submit       a modal submitted; POST /web/close a modal closed
 * Actions go through the stand-in's user actions, so the bot receives signed requests exactly
 * as from Slack. POSTs must be JSON: a browser will not send that cross-site without a CORS
 * preflight, which this server never grants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transcript, TranscriptEvent } from '../transcript.js';
import type { Json } from '../types.js';
import type { ActionResult, ClickInput, SlashCommandInput } from '../user-actions.js';
import type { SubmitInput, SubmitResult } from '../view-submission.js';
import type { Workspace } from '../workspace.js';
import { channelHtml, fileBytes, filesOf, modalHtml, SHOWN_IMAGE_TYPES } from './channel-html.js';
import type { BlockContext } from './blocks-html.js';
import { PAGE_HTML, PAGE_SCRIPT } from './page.js';
import { parseComposer, webRequest, type WebRequest } from './requests.js';

export interface WebViewDeps {
  workspace: Workspace;
  transcript: Transcript;
  slashCommand(input: SlashCommandInput): Promise<ActionResult>;
  clickButton(input: ClickInput): Promise<ActionResult>;
  submitView(input: SubmitInput): Promise<SubmitResult>;
}

export interface WebView {
  /** Answers the request when it is the web view's; false when it is not. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL, body: string): Promise<boolean>;
}

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data: http: https:; connect-src 'self'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': `${contentType}; charset=utf-8`, ...PAGE_HEADERS });
  response.end(body);
}
const json = (response: ServerResponse, status: number, body: Json): void => reply(response, status, 'application/json', JSON.stringify(body));

export function createWebView(deps: WebViewDeps): WebView {
  const { workspace, transcript } = deps;
  let version = 0;
  /** Field errors a modal was answered with, until it changes or closes. */
  const fieldErrors = new Map<string, Record<string, string>>();
  transcript.onChange((event) => {
    if (event.type === 'api_call') return;
    if (event.type === 'view_updated' || event.type === 'view_closed') fieldErrors.delete(event.view.id);
    version += 1;
  });
  const names = {
    user: (id: string) => (id === workspace.botUserId ? workspace.botName : (workspace.user(id)?.name ?? id)),
    channel: (id: string) => workspace.channel(id)?.name ?? id,
  };
  const people = () => [...workspace.users.values()].filter((u) => !u.deleted && !u.isBot);

  function state(url: URL): Json {
    const user = workspace.user(url.searchParams.get('user') ?? '')?.id ?? people()[0]?.id ?? '';
    const channel = workspace.channel(url.searchParams.get('channel') ?? '')?.id ?? [...workspace.channels.keys()][0] ?? '';
    const top = transcript.viewStore.stack(user);
    const view = top.at(-1);
    const context: BlockContext = { names, users: people().map((u) => [u.id, u.name]), ...(view && fieldErrors.has(view.id) ? { errors: fieldErrors.get(view.id)! } : {}) };
    return {
      version,
      user,
      channel,
      team: workspace.teamDomain,
      users: people().map((u) => ({ id: u.id, name: u.name, realName: u.realName ?? u.name })),
      channels: [...workspace.channels.values()].filter((c) => !c.isArchived).map((c) => ({ id: c.id, name: c.name, isPrivate: c.isPrivate === true })),
      channelHtml: channelHtml(transcript.allMessages(channel), context, user),
      modalHtml: modalHtml(view, context, top.length),
    };
  }

  function events(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write(`retry: 1000\ndata: ${version}\n\n`);
    const unsubscribe = transcript.onChange((event: TranscriptEvent) => {
      if (event.type !== 'api_call' && !response.destroyed) response.write(`data: ${version}\n\n`);
    });
    // The response's close, not the request's: that one fires as soon as the (empty) body is read.
    response.on('close', unsubscribe);
  }

  /** An uploaded file's bytes; only the image types the page shows are served as images. */
  function file(response: ServerResponse, id: string): void {
    const found = transcript.channels()
      .flatMap((channel) => transcript.allMessages(channel))
      .flatMap(filesOf)
      .find((f) => f.id === id);
    const bytes = found ? fileBytes(found) : undefined;
    if (!found || !bytes) return json(response, 404, { ok: false, error: `no file ${id} with bytes in the transcript` });
    const type = typeof found.mimetype === 'string' && SHOWN_IMAGE_TYPES.test(found.mimetype) ? found.mimetype : 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'content-length': String(bytes.length), ...PAGE_HEADERS, 'content-disposition': type.startsWith('image/') ? 'inline' : 'attachment' });
    response.end(bytes);
  }

  async function act(parsed: WebRequest): Promise<Json> {
    switch (parsed.kind) {
      case 'command': {
        const { command, text } = parseComposer(parsed.line);
        const result = await deps.slashCommand({ user: parsed.user, channel: parsed.channel, command, text });
        return { status: result.status, timedOut: result.timedOut };
      }
      case 'click': {
        const { kind: _, ...input } = parsed;
        const result = await deps.clickButton(input);
        return { status: result.status, timedOut: result.timedOut };
      }
      case 'submit': {
        const result = await deps.submitView({ user: parsed.user, viewId: parsed.viewId, values: parsed.values });
        if (result.errors) {
          fieldErrors.set(parsed.viewId, result.errors);
          version += 1;
        }
        return { status: result.status, timedOut: result.timedOut, ...(result.responseAction ? { responseAction: result.responseAction } : {}), ...(result.errors ? { errors: result.errors } : {}) };
      }
      case 'close': {
        const view = transcript.view(parsed.viewId);
        if (!view || view.user !== parsed.user || view.status !== 'open') throw new Error(`${parsed.user} has no open view ${parsed.viewId}`);
        // Slack would tell the app only with notify_on_close; the bot never asks for it.
        transcript.viewStore.close(view, new Date());
        return {};
      }
    }
  }

  return {
    async handle(request, response, url, body) {
      const path = url.pathname;
      if (request.method === 'GET') {
        if (path === '/' || path === '/web' || path === '/web/') reply(response, 200, 'text/html', PAGE_HTML);
        else if (path === '/web/app.js') reply(response, 200, 'text/javascript', PAGE_SCRIPT);
        else if (path === '/web/state') json(response, 200, state(url));
        else if (path === '/web/events') events(response);
        else if (path.startsWith('/web/files/')) file(response, decodeURIComponent(path.slice('/web/files/'.length)));
        else return false;
        return true;
      }
      if (request.method !== 'POST' || !path.startsWith('/web/')) return false;
      const parsed = webRequest(path.slice('/web/'.length), request.headers['content-type'] ?? '', body);
      if (!parsed.ok) {
        json(response, parsed.status, { ok: false, error: parsed.error });
        return true;
      }
      try {
        json(response, 200, { ok: true, ...(await act(parsed.request)) });
      } catch (error) {
        // The person's mistake (a button they cannot see, a required field left empty): the page shows it.
        json(response, 400, { ok: false, error: error instanceof Error ? error.message : String(error) });
      }
      return true;
    },
  };
}
