import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../shared/errors.js';
import { describeRedisTarget, parseRedisConnectionString } from './redis-url.js';

describe('parseRedisConnectionString', () => {
  it('reads a single server with the default port and database 0', () => {
    expect(parseRedisConnectionString('redis://redis.internal')).toEqual({
      mode: 'standalone',
      address: { host: 'redis.internal', port: 6379 },
      db: 0,
      tls: false,
    });
  });

  it('reads TLS, credentials, port and database from rediss://', () => {
    expect(parseRedisConnectionString('rediss://gatehouse:s3cret@10.0.0.5:6380/2')).toEqual({
      mode: 'standalone',
      address: { host: '10.0.0.5', port: 6380 },
      db: 2,
      tls: true,
      username: 'gatehouse',
      password: 's3cret',
    });
  });

  it('reads a password without a user name, percent-decoded', () => {
    expect(parseRedisConnectionString('redis://:p%40ss%3Aword@localhost:6379')).toMatchObject({
      password: 'p@ss:word',
    });
    expect(parseRedisConnectionString('redis://:p%40ss%3Aword@localhost:6379')).not.toHaveProperty(
      'username',
    );
  });

  it('takes the last @ as the end of the credentials, so a pasted password may contain @ and /', () => {
    expect(parseRedisConnectionString('redis://:a@b/c@redis:6379/1')).toMatchObject({
      password: 'a@b/c',
      address: { host: 'redis', port: 6379 },
      db: 1,
    });
  });

  it('reads a bracketed IPv6 address', () => {
    expect(parseRedisConnectionString('redis://[::1]:6390')).toMatchObject({
      address: { host: '::1', port: 6390 },
    });
    expect(parseRedisConnectionString('redis://[fd00::5]')).toMatchObject({
      address: { host: 'fd00::5', port: 6379 },
    });
  });

  it('accepts the scheme in any case', () => {
    expect(parseRedisConnectionString('REDIS://redis')).toMatchObject({ mode: 'standalone', tls: false });
  });

  it('reads sentinels, the master name and the database', () => {
    expect(parseRedisConnectionString('redis+sentinel://:pw@s1:26379,s2,s3:26380/mymaster/3')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26380 },
      ],
      masterName: 'mymaster',
      db: 3,
      tls: false,
      password: 'pw',
    });
  });

  it('reads sentinels over TLS with database 0 by default', () => {
    expect(parseRedisConnectionString('rediss+sentinel://s1/mymaster/')).toMatchObject({
      mode: 'sentinel',
      tls: true,
      db: 0,
      masterName: 'mymaster',
    });
  });

  it('reads cluster nodes', () => {
    expect(parseRedisConnectionString('rediss+cluster://user:pw@n1:7000,n2:7001,n3')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
        { host: 'n3', port: 6379 },
      ],
      tls: true,
      username: 'user',
      password: 'pw',
    });
  });

  it.each([
    [
      'an unknown scheme',
      'http://redis:6379',
      'must start with one of redis://, rediss://, redis+sentinel://',
    ],
    ['no scheme', 'redis:6379', 'must start with one of'],
    ['the unsupported redis-sentinel spelling', 'redis-sentinel://s1/mymaster', 'must start with one of'],
    ['no host', 'redis://', 'names no host'],
    ['no host after the credentials', 'redis://:pw@/0', 'names no host'],
    ['several hosts for one server', 'redis://a:6379,b:6379', 'takes exactly one host'],
    ['an empty host in a list', 'redis+cluster://a:7000,,b:7001', 'has an empty host'],
    ['a host with a space', 'redis://red is:6379', 'has an invalid host "red is"'],
    ['an unbracketed IPv6 address', 'redis://::1:6379', 'has an empty host'],
    ['a port out of range', 'redis://redis:70000', 'host "redis" has an invalid port'],
    ['port 0', 'redis://redis:0', 'has an invalid port'],
    ['a port that is not a number', 'redis://redis:63a9', 'has an invalid port'],
    ['an empty port', 'redis://redis:', 'has an invalid port'],
    ['a database that is not a number', 'redis://redis/zero', 'the database must be a number'],
    ['a path beyond the database', 'redis://redis/0/extra', 'the path may only be a database number'],
    ['a sentinel URL without a master', 'redis+sentinel://s1:26379', 'names no master'],
    [
      'a sentinel path beyond the database',
      'redis+sentinel://s1/m/0/x',
      'the path may only be /<master name>',
    ],
    ['a cluster with a database', 'redis+cluster://n1:7000/1', 'a Redis Cluster has only database 0'],
    ['query parameters', 'redis://redis:6379?tls=true', 'query parameters and fragments are not supported'],
    ['a fragment', 'redis://redis:6379#x', 'query parameters and fragments are not supported'],
    ['a user name without a password', 'redis://admin@redis', 'has a user name but no password'],
    [
      'a malformed percent-encoding',
      'redis://:%E0%A4%A@redis',
      'the password has a malformed percent-encoding',
    ],
  ])('refuses %s with ERR_CONFIG_INVALID naming the config key', (_case, input, expected) => {
    let caught: unknown;
    try {
      parseRedisConnectionString(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatehouseError);
    expect(caught).toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    const { message } = caught as GatehouseError;
    expect(message.startsWith('databroker_storage_connection_string: ')).toBe(true);
    expect(message).toContain(expected);
  });

  it.each([
    'redis://:hunter2@redis:99999',
    'redis://admin:hunter2@red is',
    'redis+sentinel://:hunter2@s1:26379',
    'redis+cluster://:hunter2@n1/4',
    'redis://:hunter2@redis/zero',
    'redis://:hunter2@redis?x=1',
    'http://:hunter2@redis',
    'redis://hunter2@redis',
  ])('never repeats the password in the error for %s', (input) => {
    expect(() => parseRedisConnectionString(input)).toThrow(GatehouseError);
    expect(() => parseRedisConnectionString(input)).not.toThrow(/hunter2/);
  });
});

describe('describeRedisTarget', () => {
  it.each([
    ['redis://:hunter2@redis', 'redis://:***@redis:6379/0'],
    ['rediss://admin:hunter2@10.0.0.5:6380/2', 'rediss://admin:***@10.0.0.5:6380/2'],
    ['redis://[::1]', 'redis://[::1]:6379/0'],
    [
      'rediss+sentinel://:hunter2@s1,s2:26380/my%20master',
      'rediss+sentinel://:***@s1:26379,s2:26380/my%20master/0',
    ],
    ['redis+cluster://n1:7000,n2:7001', 'redis+cluster://n1:7000,n2:7001'],
  ])('describes %s as %s, with the password redacted', (input, described) => {
    expect(describeRedisTarget(parseRedisConnectionString(input))).toBe(described);
  });
});
