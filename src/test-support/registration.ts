// Sign-ups as a client makes them: fetch a challenge, solve its proof of work, send both along.
import { solveProofOfWork } from '../shared/proof-of-work.js';

export interface RegistrationProof {
  challenge: string;
  solution: string;
}

interface ChallengeAnswer {
  data: { challenge: string; difficulty: number };
}

/** Solves a challenge answer (the JSON envelope of GET /api/auth/register/challenge/). */
export async function solveChallenge(answer: unknown): Promise<RegistrationProof> {
  const { challenge, difficulty } = (answer as ChallengeAnswer).data;
  return { challenge, solution: await solveProofOfWork(challenge, difficulty) };
}

/** A fresh solved challenge from the server at `base` (a real process). */
export async function registrationProof(base: string): Promise<RegistrationProof> {
  const response = await fetch(`${base}/api/auth/register/challenge/`);
  if (response.status !== 200)
    throw new Error(`register challenge: ${response.status} ${await response.text()}`);
  return solveChallenge(await response.json());
}
