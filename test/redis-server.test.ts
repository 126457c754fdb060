import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisServer } from './fixtures/redis-server.js';

describe('redis-server harness', () => {
  let server: RedisServer | null = null;
  afterAll(async () => {
    await server?.dispose();
  });

  it('starts with a password, append-only and noeviction, and keeps data across a restart', async () => {
    server = await RedisServer.start({ password: 'p@ss:w/rd' });
    const client = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      await client.set('k', 'v');
      await server.restart();
      expect(await client.get('k')).toBe('v');
    } finally {
      client.disconnect();
    }
    const anonymous = new Redis(`redis://127.0.0.1:${server.port}`, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    anonymous.on('error', () => {});
    try {
      await expect(anonymous.get('k')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });
});
