export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function report(name: string, figure: string): void {
  console.log(`${name.padEnd(60)} ${figure}`);
}
