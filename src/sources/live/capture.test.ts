import { describe, expect, it } from 'vitest';
import { LiveCapture, parseTcpdumpError } from './capture.js';

describe('tcpdump stderr classification', () => {
  it('maps the messages tcpdump 4.99 prints to error codes', () => {
    expect(
      parseTcpdumpError('tcpdump: nonexistent0: No such device exists\n(No such device exists)\n', 'x')?.code,
    ).toBe('LIVE_IFACE_NOT_FOUND');
    expect(
      parseTcpdumpError(
        "tcpdump: lo: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)\n",
        'lo',
      )?.code,
    ).toBe('LIVE_PERMISSION_DENIED');
    expect(parseTcpdumpError("tcpdump: unknown port 'foo'\n", 'lo')?.code).toBe('LIVE_BAD_FILTER');
    expect(parseTcpdumpError('tcpdump: syntax error in filter expression: syntax error\n', 'lo')?.code).toBe(
      'LIVE_BAD_FILTER',
    );
    expect(parseTcpdumpError('something else\n', 'lo')).toBeNull();
  });

  it('rejects interface names that could be read as options', async () => {
    await expect(new LiveCapture({ iface: '-w/tmp/x' }).start()).rejects.toMatchObject({
      code: 'LIVE_BAD_OPTIONS',
    });
    await expect(new LiveCapture({ iface: '' }).start()).rejects.toMatchObject({ code: 'LIVE_BAD_OPTIONS' });
  });
});
