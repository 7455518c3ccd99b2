/**
 * Turns what a test says a user typed into Slack's `view.state.values`, using the element
 * types of the view's input blocks: `{ target: { time: '2024-05-01 10:00' } }` becomes
 * `{ target: { time: { type: 'plain_text_input', value: '2024-05-01 10:00' } } }`, a select
 * gets its whole option object, and so on. Empty inputs are present with null values, as in
 * Slack. A required input left empty throws: the Slack client would not let it be submitted.
 */
import type { Json } from './types.js';

/** Per block_id, per action_id: a string (or strings for multi-selects), or a raw state value. */
export type SubmittedValues = Record<string, Record<string, string | string[] | Json>>;

function findOption(element: Json, value: string): Json {
  const groups = Array.isArray(element.option_groups) ? (element.option_groups as Json[]) : [];
  const options = [
    ...(Array.isArray(element.options) ? (element.options as Json[]) : []),
    ...groups.flatMap((g) => (Array.isArray(g.options) ? (g.options as Json[]) : [])),
  ];
  const option = options.find((o) => o.value === value);
  if (!option) {
    throw new Error(`no option with value ${JSON.stringify(value)} in ${String(element.action_id)}; options: ${options.map((o) => String(o.value)).join(', ')}`);
  }
  return option;
}

const SINGLE_FIELD: Record<string, string> = {
  users_select: 'selected_user',
  conversations_select: 'selected_conversation',
  channels_select: 'selected_channel',
  datepicker: 'selected_date',
  timepicker: 'selected_time',
  multi_users_select: 'selected_users',
  multi_conversations_select: 'selected_conversations',
  multi_channels_select: 'selected_channels',
};

function stateValue(element: Json, value: string | string[] | undefined): Json {
  const type = String(element.type);
  const many = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const one = many[0];
  switch (type) {
    case 'static_select':
    case 'external_select':
    case 'radio_buttons':
      return { type, selected_option: one === undefined ? null : findOption(element, one) };
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return { type, selected_options: many.map((v) => findOption(element, v)) };
    default: {
      const field = SINGLE_FIELD[type];
      if (field) return { type, [field]: type.startsWith('multi_') ? many : (one ?? null) };
      return { type, value: one ?? null };
    }
  }
}

function isEmpty(state: Json): boolean {
  return Object.entries(state).every(([key, v]) => key === 'type' || v === null || (Array.isArray(v) && v.length === 0));
}

export function stateValuesFor(blocks: unknown, submitted: SubmittedValues): Json {
  const values: Json = {};
  const known = new Set<string>();
  (Array.isArray(blocks) ? (blocks as Json[]) : []).forEach((block, index) => {
    if (block.type !== 'input' || typeof block.element !== 'object' || block.element === null) return;
    const blockId = typeof block.block_id === 'string' ? block.block_id : `standin-block-${index}`;
    const element = block.element as Json;
    const actionId = typeof element.action_id === 'string' ? element.action_id : `standin-action-${index}`;
    known.add(blockId);
    const given = submitted[blockId]?.[actionId];
    const state = typeof given === 'object' && !Array.isArray(given) ? given : stateValue(element, given);
    if (block.optional !== true && isEmpty(state)) {
      throw new Error(`required input ${blockId}/${actionId} is empty; the Slack client would not submit this view`);
    }
    values[blockId] = { [actionId]: state };
  });
  const unknown = Object.keys(submitted).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new Error(`the view has no input block(s) ${unknown.join(', ')}; it has ${[...known].join(', ') || 'none'}`);
  }
  return values;
}
