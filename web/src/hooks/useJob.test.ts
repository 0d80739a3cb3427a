import { describe, expect, it } from 'vitest';
import { jobFromEvent } from './useJob';

describe('jobFromEvent', () => {
  it('reads the ingest worker’s progress object', () => {
    expect(
      jobFromEvent({ job_id: '5', queue: 'ingest', status: 'active', progress: { pct: 42, bytes_read: 10 } }),
    ).toEqual({ id: '5', queue: 'ingest', status: 'active', progress: 42 });
    expect(
      jobFromEvent({
        job_id: 5,
        queue: 'ingest',
        status: 'completed',
        progress: { pct: 100, summary: { flows: 3 } },
      }),
    ).toEqual({ id: '5', queue: 'ingest', status: 'completed', progress: 100, result: { flows: 3 } });
    expect(
      jobFromEvent({ job_id: '5', queue: 'ingest', status: 'failed', progress: { error: 'bad file' } }),
    ).toEqual({ id: '5', queue: 'ingest', status: 'failed', error: 'bad file' });
  });

  it('reads the training worker’s number and stage, and ignores what is not a job event', () => {
    expect(
      jobFromEvent({ job_id: 'j', queue: 'training', progress: 30, stage: 'fold 1/5', status: 'active' }),
    ).toEqual({ id: 'j', queue: 'training', status: 'active', progress: 30, stage: 'fold 1/5' });
    expect(jobFromEvent({ job_id: 'j', queue: 'training', progress: 250, status: 'bogus' })).toEqual({
      id: 'j',
      queue: 'training',
      progress: 100,
    });
    expect(jobFromEvent(null)).toBeNull();
    expect(jobFromEvent({ queue: 'training' })).toBeNull();
  });
});
