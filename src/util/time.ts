/** Time formatting shared by every process (pure). */

/** `20250115T142959Z`: a UTC second, safe in file, directory and instance names. */
export function compactUtcStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
