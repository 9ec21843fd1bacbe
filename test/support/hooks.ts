// Mocha root hooks: one set of throwaway tokens for the whole run, of the kind TEST_TOKEN chooses
// (see tokens.ts). Asynchronous because the remote token waits for its server to listen.
import { setUpTokens, tearDownTokens } from "./tokens.js";

export const mochaHooks = {
  async beforeAll(): Promise<void> {
    await setUpTokens();
  },
  async afterAll(): Promise<void> {
    await tearDownTokens();
  },
};
