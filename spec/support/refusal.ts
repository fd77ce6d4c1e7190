// What a configuration check said: the message a plugin's constructor threw, or '' when it accepted.
export function refusalOf(make: () => unknown): string {
  try {
    make();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
