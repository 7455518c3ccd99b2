import { z } from 'zod';
import { RecoverError } from '../src/errors.js';
import { coverage, rpoExposureSeconds } from '../src/catalog/coverage.js';
import type { RecoverCommand } from './types.js';

const schema = z.object({}).strict();

export const backups: RecoverCommand<Record<string, never>> = {
  name: 'backups',
  usage: 'backups',
  example: '/recover backups',
  description: 'Base backups, WAL coverage per timeline, gaps, restorable window and RPO exposure.',
  home: 'runner',
  schema: schema as z.ZodType<Record<string, never>>,
  parse(tokens) {
    if (tokens.length > 0) throw new RecoverError('BAD_INPUT', '`backups` takes no arguments.', { hint: `Example: ${this.example}` });
    return {};
  },
  risk: () => 'read-only',
  confirmation: () => null,
  plan(_args, facts) {
    const size = facts.catalog.backups.at(-1)?.walSegmentSize ?? 16 * 1024 * 1024;
    const timelines = coverage(facts.catalog, size);
    const rpo = rpoExposureSeconds(facts.catalog, facts.now);
    const latest = timelines.filter((t) => t.latestRestorable).at(-1);
    return {
      command: 'backups',
      summary: `${facts.catalog.backups.length} base backup(s); restorable ${latest?.earliestRestorable ?? '—'} … ${latest?.latestRestorable ?? '—'}`,
      risk: 'read-only',
      steps: [{ kind: 'report-catalog', title: 'Read the backup catalog', params: {}, destructive: false, estimateSeconds: 2 }],
      facts: {
        'Base backups': facts.catalog.backups.map((b) => `${b.id} (${b.stopTime})`).join(', ') || 'none',
        Gaps: timelines.flatMap((t) => t.gaps.map((g) => `timeline ${t.timeline}: ${g.from}…${g.to}`)).join(', ') || 'none',
        'RPO exposure': rpo === null ? 'unknown (nothing archived)' : `${rpo} s since the newest archived WAL`,
      },
    };
  },
};
