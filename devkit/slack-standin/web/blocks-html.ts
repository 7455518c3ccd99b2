/**
 * Block Kit as HTML for the stand-in's web view: headers, sections (text, fields, accessory),
 * dividers, context, actions, images and, in modals, input blocks as form controls. Buttons
 * carry their action_id and value; the page sends a click for them through the stand-in's
 * block_actions, so the bot receives what Slack would send. A button's confirmation dialog
 * is a <template> beside it. Pure: the same blocks always give the same HTML.
 */
import { escapeHtml, ID_NAMES, safeImageUrl, textObjectToHtml, textOfObject, type WebNames } from './mrkdwn.js';

type Json = Record<string, unknown>;

export interface BlockContext {
  names: WebNames;
  /** Workspace users, for users_select in modals: [id, name]. */
  users?: Array<[string, string]>;
  /** Field errors of a modal (response_action: errors), by block_id. */
  errors?: Record<string, string>;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
const attr = (value: unknown): string => escapeHtml(typeof value === 'string' ? value : String(value ?? ''));
/** The id Slack (and the stand-in's view-state.ts) gives a block the app left without one. */
export const blockIdOf = (block: Json, index: number): string => (typeof block.block_id === 'string' ? block.block_id : `standin-block-${index}`);
const actionIdOf = (element: Json, index: number): string => (typeof element.action_id === 'string' ? element.action_id : `standin-action-${index}`);

function imageHtml(url: unknown, alt: unknown, className: string): string {
  const src = typeof url === 'string' ? safeImageUrl(url) : undefined;
  if (src === undefined) return `<span class="${className} missing">[image: ${attr(alt)}]</span>`;
  return `<img class="${className}" src="${escapeHtml(src)}" alt="${attr(alt)}">`;
}

function confirmHtml(confirm: unknown, names: WebNames): string {
  if (!isObject(confirm)) return '';
  const deny = textOfObject(confirm.deny) || 'Cancel';
  const yes = textOfObject(confirm.confirm) || 'Yes';
  return `<template class="confirm"><div class="dialog-backdrop"><div class="dialog" role="alertdialog">`
    + `<h4>${textObjectToHtml(confirm.title, names)}</h4><div class="dialog-text">${textObjectToHtml(confirm.text, names)}</div>`
    + `<div class="dialog-buttons"><button type="button" class="btn" data-deny>${escapeHtml(deny)}</button>`
    + `<button type="button" class="btn ${confirm.style === 'danger' ? 'danger' : 'primary'}" data-confirm>${escapeHtml(yes)}</button></div>`
    + `</div></div></template>`;
}

/** An interactive or image element of a section accessory, actions or context block. */
export function elementHtml(element: Json, context: BlockContext): string {
  if (element.type === 'button') {
    const style = element.style === 'primary' || element.style === 'danger' ? ` ${element.style}` : '';
    const value = element.value === undefined ? '' : ` data-value="${attr(element.value)}"`;
    const button = `<button type="button" class="btn${style}" data-action-id="${attr(element.action_id)}"${value}>${textObjectToHtml(element.text, context.names)}</button>`;
    return element.confirm === undefined ? button : `<span class="with-confirm">${button}${confirmHtml(element.confirm, context.names)}</span>`;
  }
  if (element.type === 'image') return imageHtml(element.image_url, element.alt_text, 'inline-image');
  if (element.type === 'mrkdwn' || element.type === 'plain_text') return `<span>${textObjectToHtml(element, context.names)}</span>`;
  // Selects, overflow menus and pickers in messages: shown, not usable (the bot sends none).
  const label = textOfObject(element.placeholder) || textOfObject(element.text) || String(element.action_id ?? '');
  return `<span class="element unsupported">[${attr(element.type)}: ${escapeHtml(label)}]</span>`;
}

function optionsOf(element: Json): Json[] {
  return [...list(element.options), ...list(element.option_groups).flatMap((group) => list(group.options))];
}

function optionTags(element: Json, chosen: Set<string>): string {
  return optionsOf(element)
    .map((o) => `<option value="${attr(o.value)}"${chosen.has(String(o.value)) ? ' selected' : ''}>${escapeHtml(textOfObject(o.text))}</option>`)
    .join('');
}

function choices(element: Json, blockId: string, actionId: string, kind: 'radio' | 'checkbox', required: boolean): string {
  const initial = new Set([...list(element.initial_options), ...(isObject(element.initial_option) ? [element.initial_option] : [])].map((o) => String(o.value)));
  const name = attr(`${blockId}/${actionId}`);
  const items = optionsOf(element).map((o) => {
    const checked = initial.has(String(o.value)) ? ' checked' : '';
    const req = kind === 'radio' && required ? ' required' : '';
    return `<label class="choice"><input type="${kind}" name="${name}" value="${attr(o.value)}"${checked}${req}> ${escapeHtml(textOfObject(o.text))}</label>`;
  });
  return `<div class="choices" data-input="${kind === 'radio' ? 'radio' : 'checks'}" data-block-id="${attr(blockId)}" data-action-id="${attr(actionId)}">${items.join('')}</div>`;
}

const INPUT_TYPES: Record<string, string> = {
  datepicker: 'date', timepicker: 'time', number_input: 'number', email_text_input: 'email', url_text_input: 'url',
};

/** The form control of an input block; `data-input` tells the page how to read its value. */
export function inputControlHtml(element: Json, blockId: string, index: number, required: boolean, context: BlockContext): string {
  const actionId = actionIdOf(element, index);
  const ids = `data-block-id="${attr(blockId)}" data-action-id="${attr(actionId)}"`;
  const req = required ? ' required' : '';
  const placeholder = textOfObject(element.placeholder) ? ` placeholder="${attr(textOfObject(element.placeholder))}"` : '';
  const type = String(element.type);
  switch (type) {
    case 'static_select':
    case 'multi_static_select': {
      const chosen = new Set([...list(element.initial_options), ...(isObject(element.initial_option) ? [element.initial_option] : [])].map((o) => String(o.value)));
      const many = type.startsWith('multi_');
      const empty = many ? '' : `<option value="">${escapeHtml(textOfObject(element.placeholder) || 'Choose…')}</option>`;
      return `<select data-input="${many ? 'many' : 'one'}" ${ids}${many ? ' multiple' : ''}${req}>${empty}${optionTags(element, chosen)}</select>`;
    }
    case 'users_select': {
      const users = (context.users ?? []).map(([id, name]) => `<option value="${attr(id)}"${element.initial_user === id ? ' selected' : ''}>@${escapeHtml(name)}</option>`);
      return `<select data-input="one" ${ids}${req}><option value="">Choose a person…</option>${users.join('')}</select>`;
    }
    case 'radio_buttons':
      return choices(element, blockId, actionId, 'radio', required);
    case 'checkboxes':
      return choices(element, blockId, actionId, 'checkbox', required);
    case 'plain_text_input': {
      const max = typeof element.max_length === 'number' ? ` maxlength="${element.max_length}"` : '';
      const value = typeof element.initial_value === 'string' ? element.initial_value : '';
      if (element.multiline === true) return `<textarea data-input="one" ${ids}${placeholder}${max}${req}>${escapeHtml(value)}</textarea>`;
      return `<input type="text" data-input="one" ${ids} value="${attr(value)}"${placeholder}${max}${req}>`;
    }
    default: {
      const initial = element.initial_date ?? element.initial_time ?? element.initial_value;
      const value = initial === undefined ? '' : ` value="${attr(initial)}"`;
      return `<input type="${INPUT_TYPES[type] ?? 'text'}" data-input="one" ${ids}${value}${placeholder}${req}>`;
    }
  }
}

function inputHtml(block: Json, index: number, context: BlockContext): string {
  const blockId = blockIdOf(block, index);
  const required = block.optional !== true;
  const element = isObject(block.element) ? block.element : {};
  const hint = block.hint === undefined ? '' : `<div class="hint">${textObjectToHtml(block.hint, context.names)}</div>`;
  const error = context.errors?.[blockId];
  return `<div class="block input${error ? ' has-error' : ''}"><label class="input-label">${textObjectToHtml(block.label, context.names)}`
    + `${required ? '' : ' <span class="optional">(optional)</span>'}</label>${inputControlHtml(element, blockId, index, required, context)}${hint}`
    + `${error ? `<div class="field-error">${escapeHtml(error)}</div>` : ''}</div>`;
}

/** Whatever text a rich_text block holds, as plain text (the bot sends none; others may). */
function richText(node: unknown): string {
  if (Array.isArray(node)) return node.map(richText).join('');
  if (!isObject(node)) return '';
  if (typeof node.text === 'string') return node.text;
  if (node.type === 'user' && typeof node.user_id === 'string') return `<@${node.user_id}>`;
  if (node.type === 'link' && typeof node.url === 'string') return node.url;
  return richText(node.elements);
}

/** One block as HTML. */
export function blockHtml(block: Json, index: number, context: BlockContext): string {
  const names = context.names;
  switch (block.type) {
    case 'header':
      return `<h3 class="block header">${textObjectToHtml(block.text, names)}</h3>`;
    case 'section': {
      const text = block.text === undefined ? '' : `<div class="text">${textObjectToHtml(block.text, names)}</div>`;
      const fields = list(block.fields).map((f) => `<div class="field">${textObjectToHtml(f, names)}</div>`).join('');
      const accessory = isObject(block.accessory) ? `<div class="accessory">${elementHtml(block.accessory, context)}</div>` : '';
      return `<div class="block section"><div class="section-main">${text}${fields ? `<div class="fields">${fields}</div>` : ''}</div>${accessory}</div>`;
    }
    case 'divider':
      return '<hr class="block divider">';
    case 'context':
      return `<div class="block context">${list(block.elements).map((e) => elementHtml(e, context)).join(' ')}</div>`;
    case 'actions':
      return `<div class="block actions" data-block-id="${attr(blockIdOf(block, index))}">${list(block.elements).map((e) => elementHtml(e, context)).join(' ')}</div>`;
    case 'image': {
      const title = block.title === undefined ? '' : `<div class="image-title">${textObjectToHtml(block.title, names)}</div>`;
      return `<figure class="block image">${title}${imageHtml(block.image_url, block.alt_text, 'block-image')}</figure>`;
    }
    case 'input':
      return inputHtml(block, index, context);
    case 'rich_text':
      return `<div class="block rich-text">${textObjectToHtml({ type: 'mrkdwn', text: richText(block.elements) }, names)}</div>`;
    case 'markdown':
      return `<div class="block markdown">${textObjectToHtml({ type: 'mrkdwn', text: String(block.text ?? '') }, names)}</div>`;
    default:
      return `<div class="block unsupported">[${attr(block.type)} block]</div>`;
  }
}

export function blocksHtml(blocks: unknown, context: BlockContext = { names: ID_NAMES }): string {
  // Indexes as in the message, so blocks without a block_id get the ids the stand-in gives them.
  return (Array.isArray(blocks) ? blocks : []).map((block, index) => (isObject(block) ? blockHtml(block, index, context) : '')).join('');
}
