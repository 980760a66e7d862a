/**
 * The `with:` parameters of the report stage: the JSON Schema the engine validates them against
 * and fills defaults from, and their TypeScript type, derived from it (json-schema-to-ts).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export const reportSchema = {
  title: 'report parameters',
  type: 'object',
  additionalProperties: false,
  properties: {
    title: { type: 'string', default: 'Policy extraction from one IQL critic', description: 'Report title.' },
    max_points_per_method: { type: 'integer', minimum: 10, default: 1500, description: 'Cap on scattered policy actions per method (evenly strided).' },
    trajectories_per_method: { type: 'integer', minimum: 0, default: 6, description: 'Evaluation rollouts drawn over the maze per method.' },
    curve_metrics: { type: 'array', items: { type: 'string' }, default: [], description: 'Training-curve metrics to plot (empty: all).' },
    notes: { type: 'string', default: '', description: 'Free text shown at the top of the report.' },
    critic_seed_axis: { type: 'string', minLength: 1, default: 'critic_seed', description: 'Matrix axis holding the critic seed (inherited by evaluate/diagnose through foreach); absent = one critic.' },
    actor_seed_axis: { type: 'string', minLength: 1, default: 'seed', description: 'Matrix axis holding the actor (extraction) seed; absent = one actor seed.' },
    bootstrap_samples: { type: 'integer', minimum: 100, default: 50000, description: "Bootstrap resamples per confidence interval (rliable's default 50000)." },
    bootstrap_seed: { type: 'integer', minimum: 0, default: 0, description: 'Seed of the bootstrap resampling (the report is deterministic).' },
    data_coverage: { type: 'object', additionalProperties: { enum: ['dense', 'narrow'] }, default: {}, description: "Declares a setting's dataset coverage for the claims, by setting label (e.g. 'behaviour=gait,env=cheetah-run') or env id, where the inputs don't tell it (generated gait/explore data and ExoRL are recognised)." },
  },
} as const satisfies JSONSchema;

export type ReportParams = FromSchema<typeof reportSchema>;
