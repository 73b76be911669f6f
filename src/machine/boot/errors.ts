/** A bad or unsupported boot image. The message is one line, meant for the user as is. */
export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootError';
  }
}

export const hex = (v: number, digits = 0): string => '0x' + (v >>> 0).toString(16).toUpperCase().padStart(digits, '0');
