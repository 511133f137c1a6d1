import { HeaderValueError, headerTemplateSecrets, renderHeaderValue } from './header-template';
import { type SecretLookup, UnresolvedSecretError } from './payload-template';

const SECRETS: Record<string, string> = { API_KEY: 'k-123', ACCESS_TOKEN: 'tok', WITH_DOLLAR: '$API_KEY ${API_KEY}' };
const lookup: SecretLookup = (name) => SECRETS[name];

describe('headerTemplateSecrets', () => {
  it('finds no secret in a plain value', () => {
    expect(headerTemplateSecrets('application/json')).toEqual({ secrets: [], problems: [] });
  });

  it('finds ${NAME} and $NAME secrets once each, in order', () => {
    expect(headerTemplateSecrets('Token ${API_KEY} $ACCESS_TOKEN/$API_KEY')).toEqual({
      secrets: ['API_KEY', 'ACCESS_TOKEN'],
      problems: [],
    });
  });

  it('ignores $$ and other dollars', () => {
    expect(headerTemplateSecrets('$$API_KEY $5 $x $')).toEqual({ secrets: [], problems: [] });
  });

  it('refuses event variables', () => {
    expect(headerTemplateSecrets('run ${run_name}')).toEqual({
      secrets: [],
      problems: ['${run_name} is a payload variable: header values may use secrets only (${SECRET_NAME})'],
    });
    expect(headerTemplateSecrets('${artifact_metadata.k}').problems).toHaveLength(1);
  });

  it('refuses unknown names', () => {
    expect(headerTemplateSecrets('${apiKey}').problems).toEqual([
      '${apiKey} is not a secret name: header values may use secrets only (${SECRET_NAME})',
    ]);
  });

  it('refuses a malformed ${', () => {
    expect(headerTemplateSecrets('x ${ API_KEY }')).toEqual({
      secrets: [],
      problems: ["'${ API_KEY }' is not a valid reference: write ${SECRET_NAME}, or $${ for a literal '${'"],
    });
  });

  it('still lists the secrets of a value with problems', () => {
    expect(headerTemplateSecrets('$API_KEY ${run_id}')).toMatchObject({ secrets: ['API_KEY'] });
  });
});

describe('renderHeaderValue', () => {
  it('returns a plain value unchanged', () => {
    expect(renderHeaderValue('no-cache', lookup)).toBe('no-cache');
  });

  it('substitutes ${NAME} and $NAME', () => {
    expect(renderHeaderValue('Token ${API_KEY}; t=$ACCESS_TOKEN', lookup)).toBe('Token k-123; t=tok');
  });

  it('reads $$ as $ and keeps other dollars', () => {
    expect(renderHeaderValue('$$API_KEY costs $5 $x $', lookup)).toBe('$API_KEY costs $5 $x $');
  });

  it('ends a bare name at the first character outside [A-Z0-9_]', () => {
    expect(renderHeaderValue('$API_KEY-suffix', lookup)).toBe('k-123-suffix');
  });

  it('never expands a secret value', () => {
    expect(renderHeaderValue('${WITH_DOLLAR}', lookup)).toBe('$API_KEY ${API_KEY}');
  });

  it('throws UnresolvedSecretError for a secret without a value', () => {
    expect(() => renderHeaderValue('x $MISSING', lookup)).toThrow(UnresolvedSecretError);
  });

  it('refuses a variable', () => {
    expect(() => renderHeaderValue('${run_name}', lookup)).toThrow(HeaderValueError);
  });

  it('keeps a malformed ${ literally', () => {
    expect(renderHeaderValue('${ x }', lookup)).toBe('${ x }');
  });

  it.each(['a\rb', 'a\nb', 'a\u0000b', 'a\r\nX-Injected: 1'])('refuses a secret whose value holds %j, without showing it', (value) => {
    const render = () => renderHeaderValue('Bearer $BAD', (name) => (name === 'BAD' ? value : undefined));
    expect(render).toThrow(HeaderValueError);
    expect(render).toThrow('secret BAD contains CR, LF or NUL');
    try {
      render();
    } catch (error) {
      expect((error as Error).message).not.toContain(value);
    }
  });

  it.each(['a\nb', 'a\rb', 'a\u0000b'])('refuses a literal value holding %j', (value) => {
    expect(() => renderHeaderValue(value, lookup)).toThrow('Header value contains CR, LF or NUL');
  });

  it('accepts tabs and other characters a header may carry', () => {
    expect(renderHeaderValue('a\tb é', lookup)).toBe('a\tb é');
  });
});
