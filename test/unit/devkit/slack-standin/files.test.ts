import { describe, expect, it } from 'vitest';
import { createStandInCore } from '../../../../devkit/slack-standin/core.js';
import { mimetypeOf } from '../../../../devkit/slack-standin/web-api-files.js';
import type { SlackStandInOptions } from '../../../../devkit/slack-standin/types.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(24, 1)]);

function setup(over: Partial<SlackStandInOptions> = {}) {
  return createStandInCore({ botToken: 'xoxb-good', signingSecret: 's', channels: [{ id: 'C1', name: 'incident' }, { id: 'C3', name: 'elsewhere', botIsMember: false }], maxUploadBytes: 1000, ...over });
}

type Core = ReturnType<typeof setup>;
const errorOf = (body: Record<string, unknown>) => (body.ok ? 'ok' : String(body.error));

/** Step 1: an upload URL; its token is the URL's last part. */
function start(core: Core, params: Record<string, unknown> = {}) {
  const body = core.call('files.getUploadURLExternal', { filename: 'chart.png', length: PNG.length, alt_txt: 'RTO 12 min', ...params }).body;
  return { body, token: String(body.upload_url ?? '').split('/').pop()!, id: String(body.file_id) };
}

describe('file uploads (files.getUploadURLExternal, POST, files.completeUploadExternal)', () => {
  it('shares the uploaded bytes in a thread, with the alt text, in the transcript', () => {
    const core = setup();
    const parent = String(core.call('chat.postMessage', { channel: 'C1', text: 'summary' }).body.ts);
    const { body, token, id } = start(core);
    expect(body).toMatchObject({ ok: true, upload_url: expect.stringMatching(/\/upload\/[a-f0-9]+$/), file_id: expect.stringMatching(/^F/) });
    expect(core.uploads.receive(token, PNG)).toEqual({ status: 200, text: `OK - ${PNG.length}` });
    const done = core.call('files.completeUploadExternal', { files: JSON.stringify([{ id, title: 'RTO trend' }]), channel_id: 'C1', thread_ts: parent }).body;
    expect(done).toMatchObject({ ok: true, files: [{ id, title: 'RTO trend', mimetype: 'image/png', size: PNG.length }] });
    const [reply] = core.transcript.thread('C1', parent);
    expect(reply?.files).toEqual([expect.objectContaining({ id, name: 'chart.png', altText: 'RTO 12 min', bytes: PNG })]);
    expect(core.transcript.render('C1')).toContain(`[file chart.png, image/png, ${PNG.length} bytes; alt: RTO 12 min]`);
    expect(core.webApi.unknownCalls()).toEqual([]);
  });

  it.each([
    [{ length: 0 }, 'missing_argument'],
    [{ length: 1001 }, 'file_upload_size_restricted'],
    [{ length: 'ten' }, 'invalid_arguments'],
    [{ filename: undefined }, 'invalid_arguments'],
    [{ alt_txt: 'x'.repeat(1001) }, 'alt_txt_too_large'],
  ])('getUploadURLExternal %j → %s', (params, error) => {
    expect(errorOf(start(setup(), params).body)).toBe(error);
  });

  it('needs files:write', () => {
    expect(start(setup({ scopes: ['chat:write'] })).body).toMatchObject({ ok: false, error: 'missing_scope', needed: 'files:write' });
  });

  it('an upload URL takes exactly the announced bytes, once', () => {
    const core = setup();
    const short = start(core);
    expect(core.uploads.receive(short.token, PNG.subarray(1)).status).toBe(400);
    expect(core.uploads.receive(short.token, PNG).status).toBe(404); // spent by the failed attempt
    expect(errorOf(core.call('files.completeUploadExternal', { files: [{ id: short.id }], channel_id: 'C1' }).body)).toBe('file_not_found');

    const good = start(core);
    expect(core.uploads.receive(good.token, PNG).status).toBe(200);
    expect(core.uploads.receive(good.token, PNG).status).toBe(404);
    expect(errorOf(core.call('files.completeUploadExternal', { files: [{ id: good.id }], channel_id: 'C1' }).body)).toBe('ok');
    expect(errorOf(core.call('files.completeUploadExternal', { files: [{ id: good.id }], channel_id: 'C1' }).body)).toBe('file_not_found');
  });

  it.each([
    [{ files: '[]', channel_id: 'C1' }, 'invalid_arguments'],
    [{ files: 'not json', channel_id: 'C1' }, 'invalid_arguments'],
    [{ channel_id: 'C1' }, 'invalid_arguments'],
    [{ files: [{ id: 'FNOPE' }], channel_id: 'C1' }, 'file_not_found'],
    [{ files: 'ID', channel_id: 'C0NONE' }, 'channel_not_found'],
    [{ files: 'ID', channel_id: 'C3' }, 'not_in_channel'],
    [{ files: 'ID', thread_ts: '1.2' }, 'invalid_arguments'],
  ] as Array<[Record<string, unknown>, string]>)('completeUploadExternal %j → %s', (params, error) => {
    const core = setup();
    const { token, id } = start(core);
    core.uploads.receive(token, PNG);
    const files = params.files === 'ID' ? [{ id }] : params.files;
    expect(errorOf(core.call('files.completeUploadExternal', { ...params, ...(files === undefined ? {} : { files }) }).body)).toBe(error);
  });

  it('without a channel the file stays private: no message', () => {
    const core = setup();
    const { token, id } = start(core);
    core.uploads.receive(token, PNG);
    expect(errorOf(core.call('files.completeUploadExternal', { files: [{ id }] }).body)).toBe('ok');
    expect(core.transcript.allMessages('C1')).toEqual([]);
  });

  it.each([
    [PNG, 'x.bin', 'image/png'],
    [Buffer.from([0xff, 0xd8, 0xff, 0]), 'x', 'image/jpeg'],
    [Buffer.from('hello'), 'a.txt', 'text/plain'],
    [Buffer.from('hello'), 'a.png', 'application/octet-stream'],
  ])('mimetypeOf(%#)', (bytes, name, expected) => {
    expect(mimetypeOf(bytes, name)).toBe(expected);
  });
});
