import { expect, test } from 'vitest';
import { RowCutter } from '../../../../../src/engine/dumps/parallel/copy-rows.js';

/** Feeds the chunks, returns the pieces handed on (as text) and what the whole adds up to. */
function cut(chunks: string[]) {
  const cutter = new RowCutter();
  const pieces = chunks.map((chunk) => cutter.push(Buffer.from(chunk, 'utf8')).toString('utf8'));
  pieces.push(cutter.flush().toString('utf8'));
  return { pieces, whole: pieces.join(''), ended: cutter.ended };
}

test.each([
  ['rows in one chunk, then the end marker', ['1\ta\n2\tb\n\\.\n\n\n'], ['1\ta\n2\tb\n', ''], true],
  ['a row cut across chunks waits for its end', ['1\ta\n2\t', 'b\n3\tc\n'], ['1\ta\n', '2\tb\n3\tc\n', ''], false],
  ['a chunk with no row end hands nothing on', ['1\tlong', 'er value', '\n'], ['', '', '1\tlonger value\n', ''], false],
  ['the marker at a chunk\'s start', ['1\ta\n', '\\.\n\n'], ['1\ta\n', '', ''], true],
  ['the marker cut across chunks', ['1\ta\n\\', '.\n\n'], ['1\ta\n', '', ''], true],
  ['nothing after the marker is data', ['1\ta\n\\.\n', '9\tz\n'], ['1\ta\n', '', ''], true],
  ['an escaped backslash-dot inside a value is data', ['1\t\\\\.\n2\tx\\.y\n'], ['1\t\\\\.\n2\tx\\.y\n', ''], false],
  ['a last row without its newline', ['1\ta\n2\tb'], ['1\ta\n', '2\tb'], false],
  ['a file that ends with the marker and no newline', ['1\ta\n\\.'], ['1\ta\n', ''], false],
  ['multi-byte characters across a chunk boundary stay whole', ['1\tgrü', 'ße\n'], ['', '1\tgrüße\n', ''], false],
])('%s', (_name, chunks, pieces, ended) => {
  const got = cut(chunks);
  expect(got.pieces).toEqual(pieces);
  expect(got.ended).toBe(ended);
});
