// Configuration: defaults, dialect selection, and errors that name the variable.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to SQLite in ./data on 127.0.0.1:8000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8000, logLevel: 'info' });
    expect(config.database).toEqual({ dialect: 'sqlite', path: path.resolve('data/axon.db') });
  });

  it('selects PostgreSQL or a SQLite path from DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }).database).toEqual({
      dialect: 'postgres',
      url: 'postgres://u@h/db',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({
      dialect: 'sqlite',
      path: '/tmp/x.db',
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['AXON_SECRET', 'short'],
    ['AXON_PUBLIC_URL', 'ftp://x'],
    ['AXON_PROXY', 'http://127.0.0.1:9050'],
    ['LOG_LEVEL', 'loud'],
    ['AXON_LOGIN_RATE_LIMIT', '0'],
  ])('names %s when it is %j', (variable, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as ConfigError).message).toContain(variable);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8000);
  });
});
