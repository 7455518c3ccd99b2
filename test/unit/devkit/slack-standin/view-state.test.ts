import { describe, expect, it } from 'vitest';
import { stateValuesFor } from '../../../../devkit/slack-standin/view-state.js';

const option = (value: string) => ({ text: { type: 'plain_text', text: value.toUpperCase() }, value });
const input = (blockId: string, element: Record<string, unknown>, optional = false) => ({
  type: 'input', block_id: blockId, optional, label: { type: 'plain_text', text: blockId }, element: { action_id: 'a', ...element },
});

const blocks = [
  { type: 'section', text: { type: 'mrkdwn', text: 'not an input' } },
  input('reason', { type: 'plain_text_input' }),
  input('mode', { type: 'static_select', options: [option('side'), option('in-place')] }),
  input('checks', { type: 'checkboxes', options: [option('amcheck'), option('counts')] }, true),
  input('approver', { type: 'users_select' }, true),
  input('day', { type: 'datepicker' }, true),
  input('note', { type: 'plain_text_input' }, true),
];

describe('stateValuesFor', () => {
  it("turns strings into Slack's state shapes and leaves empty optional inputs null", () => {
    const values = stateValuesFor(blocks, {
      reason: { a: 'restore a side copy' },
      mode: { a: 'side' },
      checks: { a: ['amcheck', 'counts'] },
      approver: { a: 'U0BOB' },
    });
    expect(values).toEqual({
      reason: { a: { type: 'plain_text_input', value: 'restore a side copy' } },
      mode: { a: { type: 'static_select', selected_option: option('side') } },
      checks: { a: { type: 'checkboxes', selected_options: [option('amcheck'), option('counts')] } },
      approver: { a: { type: 'users_select', selected_user: 'U0BOB' } },
      day: { a: { type: 'datepicker', selected_date: null } },
      note: { a: { type: 'plain_text_input', value: null } },
    });
  });

  it('passes raw state values through untouched', () => {
    const raw = { type: 'plain_text_input', value: 'as is' };
    const values = stateValuesFor(blocks, { reason: { a: raw }, mode: { a: 'in-place' } });
    expect(values.reason).toEqual({ a: raw });
  });

  it.each([
    ['a required input left empty', { mode: { a: 'side' } }, /required input reason\/a is empty/],
    ['an option the select does not offer', { reason: { a: 'x' }, mode: { a: 'prod' } }, /no option with value "prod"/],
    ['a block the view does not have', { reason: { a: 'x' }, mode: { a: 'side' }, target: { a: 'x' } }, /no input block\(s\) target/],
  ])('refuses %s, as the Slack client would', (_name, submitted, message) => {
    expect(() => stateValuesFor(blocks, submitted)).toThrow(message);
  });
});
