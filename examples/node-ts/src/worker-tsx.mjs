// The worker entry when the game runs from source under tsx (`npm run start:tsx`). Node 20
// gives a worker none of the main thread's module loaders, so the worker registers tsx
// itself before it loads the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
