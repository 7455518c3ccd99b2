/**
 * Pure Block Kit validation of messages and modal views, answering with the error code and
 * messages Slack uses. Limits live in LIMITS (block-kit-elements.ts).
 */
import { checkElement, checkString, checkText, isObject, LIMITS, type Issue } from './block-kit-elements.js';

export { LIMITS, type Issue } from './block-kit-elements.js';

export type Surface = 'message' | 'modal';

export interface Rejection {
  code: 'invalid_blocks' | 'msg_too_long' | 'no_text' | 'invalid_arguments';
  messages: string[];
}

export function formatIssue(issue: Issue): string {
  return `[ERROR] ${issue.message} [json-pointer:${issue.pointer}]`;
}

const KNOWN_BLOCKS = new Set([
  'section', 'header', 'divider', 'context', 'actions', 'image', 'input', 'rich_text', 'video', 'file', 'markdown',
]);

function checkBlock(block: unknown, at: string, issues: Issue[]): void {
  if (!isObject(block)) return void issues.push({ pointer: at, message: 'must be a block object' });
  const type = block.type;
  if (typeof type !== 'string' || !KNOWN_BLOCKS.has(type)) {
    return void issues.push({ pointer: `${at}/type`, message: `unsupported block type ${JSON.stringify(type)}` });
  }
  checkString(block.block_id, `${at}/block_id`, LIMITS.blockId, issues);
  switch (type) {
    case 'section': {
      if (block.text === undefined && block.fields === undefined) {
        issues.push({ pointer: at, message: 'must provide either text or fields' });
      }
      if (block.text !== undefined) checkText(block.text, `${at}/text`, LIMITS.sectionText, issues);
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields)) issues.push({ pointer: `${at}/fields`, message: 'must be an array' });
        else {
          if (block.fields.length > LIMITS.sectionFields) {
            issues.push({ pointer: `${at}/fields`, message: `must have no more than ${LIMITS.sectionFields} items` });
          }
          block.fields.forEach((field, i) => checkText(field, `${at}/fields/${i}`, LIMITS.sectionFieldText, issues));
        }
      }
      if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, issues);
      return;
    }
    case 'header':
      return checkText(block.text, `${at}/text`, LIMITS.headerText, issues, true);
    case 'actions':
      return checkList(block.elements, `${at}/elements`, LIMITS.actionsElements, issues, (el, p) => checkElement(el, p, issues));
    case 'context':
      return checkList(block.elements, `${at}/elements`, LIMITS.contextElements, issues, (el, p) => {
        if (isObject(el) && el.type === 'image') checkElement(el, p, issues);
        else checkText(el, p, LIMITS.sectionText, issues);
      });
    case 'input':
      checkText(block.label, `${at}/label`, LIMITS.inputLabel, issues, true);
      if (block.hint !== undefined) checkText(block.hint, `${at}/hint`, LIMITS.inputHint, issues, true);
      if (block.element === undefined) issues.push({ pointer: `${at}/element`, message: 'missing required field' });
      else checkElement(block.element, `${at}/element`, issues);
      return;
    case 'image':
      checkString(block.image_url, `${at}/image_url`, LIMITS.url, issues, block.slack_file === undefined);
      checkString(block.alt_text, `${at}/alt_text`, LIMITS.imageAltText, issues, true);
      return;
    default:
      return;
  }
}

function checkList(value: unknown, pointer: string, max: number, issues: Issue[], each: (item: unknown, at: string) => void): void {
  if (!Array.isArray(value)) return void issues.push({ pointer, message: 'must be an array' });
  if (value.length === 0) issues.push({ pointer, message: 'must have at least 1 item' });
  if (value.length > max) issues.push({ pointer, message: `must have no more than ${max} items` });
  value.forEach((item, i) => each(item, `${pointer}/${i}`));
}

/** Structural issues of a blocks array on a surface; an empty result means Slack would accept it. */
export function validateBlocks(blocks: unknown, surface: Surface, pointer = '/blocks'): Issue[] {
  const issues: Issue[] = [];
  if (!Array.isArray(blocks)) return [{ pointer, message: 'must be an array' }];
  const max = surface === 'message' ? LIMITS.messageBlocks : LIMITS.modalBlocks;
  if (blocks.length > max) issues.push({ pointer, message: `must have no more than ${max} items` });
  const seenBlockIds = new Set<string>();
  blocks.forEach((block, i) => {
    checkBlock(block, `${pointer}/${i}`, issues);
    const id = isObject(block) ? block.block_id : undefined;
    if (typeof id === 'string') {
      if (seenBlockIds.has(id)) issues.push({ pointer: `${pointer}/${i}/block_id`, message: `duplicate block_id ${id}` });
      seenBlockIds.add(id);
    }
  });
  return issues;
}

/** What chat.postMessage / chat.update / chat.postEphemeral / response_url would say. */
export function validateMessageContent(content: { text?: unknown; blocks?: unknown; attachments?: unknown }): Rejection | undefined {
  const { text, blocks, attachments } = content;
  const hasText = typeof text === 'string' && text.length > 0;
  if (!hasText && blocks === undefined && attachments === undefined) return { code: 'no_text', messages: [] };
  if (typeof text === 'string' && text.length > LIMITS.messageTextChars) return { code: 'msg_too_long', messages: [] };
  if (blocks === undefined) return undefined;
  const issues = validateBlocks(blocks, 'message');
  if (issues.length > 0) return { code: 'invalid_blocks', messages: issues.map(formatIssue) };
  if (JSON.stringify(blocks).length > LIMITS.messageBlocksJsonChars) return { code: 'msg_too_long', messages: [] };
  return undefined;
}

/** What views.open / views.push / views.update would say about a view; Slack uses invalid_arguments. */
export function validateView(view: unknown): Rejection | undefined {
  const issues: Issue[] = [];
  if (!isObject(view)) return { code: 'invalid_arguments', messages: [formatIssue({ pointer: '/view', message: 'must be an object' })] };
  if (view.type !== 'modal') issues.push({ pointer: '/view/type', message: 'must be modal' });
  checkText(view.title, '/view/title', LIMITS.modalTitle, issues, true);
  if (view.submit !== undefined) checkText(view.submit, '/view/submit', LIMITS.modalButton, issues, true);
  if (view.close !== undefined) checkText(view.close, '/view/close', LIMITS.modalButton, issues, true);
  checkString(view.private_metadata, '/view/private_metadata', LIMITS.privateMetadata, issues);
  checkString(view.callback_id, '/view/callback_id', LIMITS.callbackId, issues);
  checkString(view.external_id, '/view/external_id', LIMITS.externalId, issues);
  issues.push(...validateBlocks(view.blocks, 'modal', '/view/blocks'));
  const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
  if (hasInput && view.submit === undefined) {
    issues.push({ pointer: '/view/submit', message: 'must provide submit when an input block is present' });
  }
  return issues.length > 0 ? { code: 'invalid_arguments', messages: issues.map(formatIssue) } : undefined;
}
