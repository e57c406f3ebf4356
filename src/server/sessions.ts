import type { DbHandle } from '../store/db';
import type { SessionRecord } from '../store/schema';

export class SessionStore {
  constructor(private readonly handle: DbHandle) {}

  async get(id: string): Promise<SessionRecord | undefined> {
    return (await this.handle.get()).get('sessions', id);
  }

  async put(session: SessionRecord): Promise<void> {
    await (await this.handle.get()).put('sessions', session);
  }
}
