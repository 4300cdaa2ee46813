// bench:scaling's no-op Piscina task: what a message round trip costs without any work.
export default function echo(x: number): number {
  return x;
}
