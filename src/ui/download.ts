// Saving to disk from the page: an object URL on a temporary link, clicked (the browser's download).
/** Offers `data` as a file named `name` to download. */
export function downloadFile(name: string, data: BlobPart, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
