/**
 * Pure validation of Block Kit composition objects and interactive elements, with Slack's
 * limits. Issues carry a JSON pointer so a failing message reads like Slack's own
 * `[ERROR] must be less than 76 characters [json-pointer:/blocks/2/elements/0/text/text]`.
 */

export interface Issue {
  pointer: string;
  message: string;
}

export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  messageBlocksJsonChars: 13_000,
  messageTextChars: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  blockId: 255,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionsElements: 25,
  contextElements: 10,
  placeholder: 150,
  optionText: 75,
  optionValue: 150,
  selectOptions: 100,
  choiceOptions: 10,
  inputLabel: 2000,
  inputHint: 2000,
  textInputLength: 3000,
  imageAltText: 2000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
} as const;

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function tooLong(pointer: string, max: number): Issue {
  return { pointer, message: `must be less than ${max + 1} characters` };
}

export function checkString(value: unknown, pointer: string, max: number, issues: Issue[], required = false): void {
  if (value === undefined) {
    if (required) issues.push({ pointer, message: 'missing required field' });
    return;
  }
  if (typeof value !== 'string') issues.push({ pointer, message: 'must be a string' });
  else if (value.length > max) issues.push(tooLong(pointer, max));
}

/** A text object; `plainOnly` where Slack accepts only `plain_text` (headers, buttons, titles). */
export function checkText(value: unknown, pointer: string, max: number, issues: Issue[], plainOnly = false): void {
  if (!isObject(value)) {
    issues.push({ pointer, message: 'must be a text object' });
    return;
  }
  const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (typeof value.type !== 'string' || !allowed.includes(value.type)) {
    issues.push({ pointer: `${pointer}/type`, message: `must be one of ${allowed.join(', ')}` });
  }
  if (typeof value.text !== 'string') issues.push({ pointer: `${pointer}/text`, message: 'missing required field' });
  else if (value.text.length === 0) issues.push({ pointer: `${pointer}/text`, message: 'must be more than 0 characters' });
  else if (value.text.length > max) issues.push(tooLong(`${pointer}/text`, max));
}

function checkOptions(options: unknown, pointer: string, max: number, issues: Issue[], plainOnly: boolean): void {
  if (!Array.isArray(options)) {
    issues.push({ pointer, message: 'must be an array' });
    return;
  }
  if (options.length === 0) issues.push({ pointer, message: 'must have at least 1 item' });
  if (options.length > max) issues.push({ pointer, message: `must have no more than ${max} items` });
  options.forEach((option, i) => {
    const at = `${pointer}/${i}`;
    if (!isObject(option)) return void issues.push({ pointer: at, message: 'must be an option object' });
    checkText(option.text, `${at}/text`, LIMITS.optionText, issues, plainOnly);
    checkString(option.value, `${at}/value`, LIMITS.optionValue, issues, true);
  });
}

function checkConfirm(confirm: unknown, pointer: string, issues: Issue[]): void {
  if (confirm === undefined) return;
  if (!isObject(confirm)) return void issues.push({ pointer, message: 'must be a confirmation dialog object' });
  checkText(confirm.title, `${pointer}/title`, 100, issues, true);
  checkText(confirm.text, `${pointer}/text`, 300, issues);
  checkText(confirm.confirm, `${pointer}/confirm`, 30, issues, true);
  checkText(confirm.deny, `${pointer}/deny`, 30, issues, true);
}

/** Element types Slack accepts that the stand-in passes through without checking their fields. */
const UNCHECKED_ELEMENTS = new Set([
  'rich_text_input', 'file_input', 'workflow_button', 'external_select', 'multi_external_select',
  'number_input', 'email_text_input', 'url_text_input',
]);
const SELECTS = new Set(['static_select', 'multi_static_select']);
const PICKERS = new Set([
  'users_select', 'multi_users_select', 'conversations_select', 'multi_conversations_select',
  'channels_select', 'multi_channels_select', 'datepicker', 'timepicker', 'datetimepicker',
]);

/** An interactive element (or image element) inside actions, section accessory, or input. */
export function checkElement(element: unknown, pointer: string, issues: Issue[]): void {
  if (!isObject(element)) return void issues.push({ pointer, message: 'must be an element object' });
  const type = element.type;
  checkString(element.action_id, `${pointer}/action_id`, LIMITS.actionId, issues);
  if (type === 'button') {
    checkText(element.text, `${pointer}/text`, LIMITS.buttonText, issues, true);
    checkString(element.value, `${pointer}/value`, LIMITS.buttonValue, issues);
    checkString(element.url, `${pointer}/url`, LIMITS.url, issues);
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      issues.push({ pointer: `${pointer}/style`, message: 'must be one of primary, danger' });
    }
    checkConfirm(element.confirm, `${pointer}/confirm`, issues);
  } else if (SELECTS.has(String(type))) {
    if (element.placeholder !== undefined) checkText(element.placeholder, `${pointer}/placeholder`, LIMITS.placeholder, issues, true);
    if (element.option_groups === undefined) checkOptions(element.options, `${pointer}/options`, LIMITS.selectOptions, issues, true);
    checkConfirm(element.confirm, `${pointer}/confirm`, issues);
  } else if (type === 'checkboxes' || type === 'radio_buttons') {
    checkOptions(element.options, `${pointer}/options`, LIMITS.choiceOptions, issues, false);
  } else if (type === 'overflow') {
    checkOptions(element.options, `${pointer}/options`, 5, issues, true);
  } else if (type === 'plain_text_input') {
    if (element.placeholder !== undefined) checkText(element.placeholder, `${pointer}/placeholder`, LIMITS.placeholder, issues, true);
    checkString(element.initial_value, `${pointer}/initial_value`, LIMITS.textInputLength, issues);
    if (typeof element.max_length === 'number' && element.max_length > LIMITS.textInputLength) {
      issues.push({ pointer: `${pointer}/max_length`, message: `must be less than ${LIMITS.textInputLength + 1}` });
    }
  } else if (PICKERS.has(String(type))) {
    if (element.placeholder !== undefined) checkText(element.placeholder, `${pointer}/placeholder`, LIMITS.placeholder, issues, true);
  } else if (type === 'image') {
    checkString(element.image_url, `${pointer}/image_url`, LIMITS.url, issues, true);
    checkString(element.alt_text, `${pointer}/alt_text`, LIMITS.imageAltText, issues, true);
  } else if (!UNCHECKED_ELEMENTS.has(String(type))) {
    issues.push({ pointer: `${pointer}/type`, message: `unsupported element type ${JSON.stringify(type)}` });
  }
}
