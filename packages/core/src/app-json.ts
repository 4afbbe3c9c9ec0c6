export type AppJson = Record<string, unknown>;
