import { z } from 'zod';
import type { ListFilter } from '../../devices/repository.js';

/** The device filters of the inventory list and the devices CSV export, as query parameters. */
export const deviceFilterQuery = {
  type: z.string().max(128).optional(),
  vendor: z.string().max(128).optional(),
  risk_min: z.coerce.number().min(0).max(100).optional(),
  online: z.enum(['true', 'false']).optional(),
  q: z.string().min(1).max(128).optional().describe('Search host name, MAC, IP, vendor and model'),
};

type DeviceFilterQuery = z.infer<z.ZodObject<typeof deviceFilterQuery>>;

/** Those parameters as the repository's filter. */
export function deviceFilter(
  q: DeviceFilterQuery,
): Pick<ListFilter, 'type' | 'vendor' | 'riskMin' | 'online' | 'q'> {
  return {
    type: q.type,
    vendor: q.vendor,
    riskMin: q.risk_min,
    online: q.online === undefined ? undefined : q.online === 'true',
    q: q.q,
  };
}
