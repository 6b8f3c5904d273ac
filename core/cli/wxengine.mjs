#!/usr/bin/env node
// package.json "bin": runs the TypeScript CLI from the source tree (npm link, npx wxengine) by registering
// tsx first; Node 20 cannot run .ts by itself. The single binary (dist/wxengine) needs none of this.
import { register } from 'tsx/esm/api'

register()
await import('./main.ts')
