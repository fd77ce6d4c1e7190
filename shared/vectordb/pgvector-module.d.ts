// The `pgvector` npm package (0.2.x) declares its types only through package.json "exports", which this
// project's module resolution (node10) does not read; this is the one function we use, typed.
declare module 'pgvector' {
  /** A vector as pgvector's text form, '[1,2,3]'. */
  export function toSql(value: number[]): string;
}
