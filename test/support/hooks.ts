// Mocha root hooks: one set of throwaway tokens for the whole run.
import { setUpTokens, tearDownTokens } from "./tokens.js";

export const mochaHooks = {
  beforeAll(): void {
    setUpTokens();
  },
  afterAll(): void {
    tearDownTokens();
  },
};
