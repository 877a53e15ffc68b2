// Opening private keys through their JWK numbers must give exactly the key Node's own DER decoder
// gives, and must leave anything that is not a plain PKCS#8 RSA key to that decoder.
import { constants, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { privateKeyFromDer } from './keys.js';
import { rsaJwkFromPkcs8 } from './pkcs8.js';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

describe('rsaJwkFromPkcs8', () => {
  for (const bits of [1024, 2048, 3072]) {
    it(`reads a ${bits}-bit key as the JWK Node exports for it`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      const der = privateKey.export({ format: 'der', type: 'pkcs8' });
      expect(rsaJwkFromPkcs8(der)).toEqual(privateKey.export({ format: 'jwk' }));
      const opened = privateKeyFromDer(der);
      expect(opened.export({ format: 'der', type: 'pkcs8' })).toEqual(der);
      const data = Buffer.from('a signed event');
      const signature = sign('sha256', data, { key: opened, ...PSS });
      expect(verify('sha256', data, { key: publicKey, ...PSS }, signature)).toBe(true);
    });
  }

  it('answers undefined for other keys and forms, which Node then decodes or refuses', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const ecDer = ec.export({ format: 'der', type: 'pkcs8' });
    expect(rsaJwkFromPkcs8(ecDer)).toBeUndefined();
    expect(privateKeyFromDer(ecDer).asymmetricKeyType).toBe('ec');
    const pkcs1 = rsa.export({ format: 'der', type: 'pkcs1' });
    expect(rsaJwkFromPkcs8(pkcs1)).toBeUndefined();
    const spki = createPublicKey(rsa).export({ format: 'der', type: 'spki' });
    expect(rsaJwkFromPkcs8(spki)).toBeUndefined();
  });

  it('answers undefined for every truncation and for trailing bytes', () => {
    const der = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'der',
      type: 'pkcs8',
    });
    for (let length = 0; length < der.length; length++) {
      expect(rsaJwkFromPkcs8(der.subarray(0, length))).toBeUndefined();
    }
    expect(rsaJwkFromPkcs8(Buffer.concat([der, Buffer.from([0])]))).toBeUndefined();
    expect(() => privateKeyFromDer(der.subarray(0, der.length - 1))).toThrow();
  });
});
