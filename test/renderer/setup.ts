import { configure } from '@testing-library/react';

// `findBy*` and `waitFor` wait for a condition, 1 s by default. A first lazy import is compiled by Vite on demand,
// which on a loaded two-core CI machine can take longer than that; the wait still ends the moment the condition holds.
configure({ asyncUtilTimeout: 10_000 });
