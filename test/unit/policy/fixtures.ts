import { readFileSync, readdirSync } from 'node:fs';

const DIR = new URL('../../fixtures/policy/', import.meta.url);

export function fixtureNames(): string[] {
  return readdirSync(DIR).filter((name) => name.endsWith('.json')).sort();
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, DIR), 'utf8');
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixtureText(name));
}
