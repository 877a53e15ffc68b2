// Uploads and downloads with progress: fetch cannot report upload progress, so uploads go through
// XMLHttpRequest; downloads read the body stream and count bytes against Content-Length.
import { ApiError, authHeader, errorFrom } from './client';
import type { Upload } from './types';

export interface Progress {
  loaded: number;
  total: number;
}

export function uploadFile(
  file: File,
  onProgress: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/content/upload/');
    const headers = authHeader();
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (event) =>
      onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
    xhr.onerror = () =>
      reject(new ApiError(0, 'NETWORK_ERROR', 'The upload was cut off. Try again.'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    xhr.onload = () => {
      const response = new Response(xhr.responseText, {
        status: xhr.status,
        headers: { 'Content-Type': 'application/json' },
      });
      if (xhr.status >= 200 && xhr.status < 300) {
        void response.json().then((envelope: { data: Upload }) => resolve(envelope.data));
      } else {
        void errorFrom(response, 'Authorization' in headers).then(reject);
      }
    };
    signal?.addEventListener('abort', () => xhr.abort());
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** Fetches content with the session's token, reporting progress, and returns it as a Blob. */
export async function downloadContent(
  hash: string,
  onProgress: (progress: Progress) => void,
  signal?: AbortSignal,
): Promise<Blob> {
  const headers = authHeader();
  let response: Response;
  try {
    response = await fetch(`/api/content/stream/${hash}/`, { headers, signal });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'NETWORK_ERROR', 'Cannot reach the server. Check your connection.');
  }
  if (!response.ok || response.body === null) {
    throw await errorFrom(response, 'Authorization' in headers);
  }
  const total = Number(response.headers.get('Content-Length') ?? 0);
  const type = response.headers.get('Content-Type') ?? 'application/octet-stream';
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.byteLength;
    onProgress({ loaded, total });
  }
  if (total > 0 && loaded !== total) {
    throw new ApiError(0, 'TRANSFER_CUT', 'The download was cut short. Try again.');
  }
  return new Blob(parts as BlobPart[], { type });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
