import { readDollar } from './placeholder-syntax';
import {
  type JsonPath,
  type LocatedReference,
  MAX_TEMPLATE_DEPTH,
  PayloadTemplateError,
  type TemplateCompilation,
  type TemplateIssue,
  TemplateProgramBuilder,
  type TextPosition,
} from './template-program';

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
const HEX4 = /[0-9A-Fa-f]{4}/y;
const SIMPLE_ESCAPES = '"\\/bfnrt';

/**
 * Compiles a JSON-text template: JSON (RFC 8259) in which `${name}` / `$NAME` may stand as a
 * whole value or appear inside string values. The parser follows JSON's grammar exactly, so
 * a template it accepts renders to valid JSON whatever the values; anything else throws a
 * PayloadTemplateError naming the path, line and column. The author's layout is kept.
 */
export function compileJsonText(text: string): TemplateCompilation {
  return new JsonTextCompiler(text).compile();
}

class JsonTextCompiler {
  private pos = 0;
  private readonly out = new TemplateProgramBuilder();
  private readonly references: LocatedReference[] = [];
  private readonly invalidPlaceholders: TemplateIssue[] = [];
  private lineStarts: number[] | undefined;

  constructor(private readonly text: string) {}

  compile(): TemplateCompilation {
    this.whitespace();
    this.value([], 0);
    this.whitespace();
    if (this.pos < this.text.length) this.fail([], `unexpected ${this.describeNext()} after the JSON value`);
    return { program: this.out.build(), references: this.references, invalidPlaceholders: this.invalidPlaceholders };
  }

  private value(path: JsonPath, depth: number): void {
    const c = this.text[this.pos];
    if (c === '{') return this.object(path, depth + 1);
    if (c === '[') return this.array(path, depth + 1);
    if (c === '"') {
      this.string(path, true);
      return;
    }
    if (c === '$') return this.wholeValueReference(path);
    if (c === '-' || (c >= '0' && c <= '9')) return this.number(path);
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.pos)) {
        this.out.structure(word);
        this.pos += word.length;
        return;
      }
    }
    this.fail(path, `unexpected ${this.describeNext()}, expected a JSON value`);
  }

  private object(path: JsonPath, depth: number): void {
    this.checkDepth(path, depth);
    this.punctuation('{');
    this.whitespace();
    if (this.text[this.pos] === '}') return this.punctuation('}');
    for (;;) {
      if (this.text[this.pos] !== '"') {
        this.fail(path, `unexpected ${this.describeNext()}, expected a string key (keys cannot be placeholders)`);
      }
      const key = this.string(path, false);
      this.whitespace();
      this.expect(path, ':');
      this.whitespace();
      this.value([...path, key], depth);
      this.whitespace();
      if (this.text[this.pos] === '}') return this.punctuation('}');
      this.expect(path, ',', "',' or '}'");
      this.whitespace();
    }
  }

  private array(path: JsonPath, depth: number): void {
    this.checkDepth(path, depth);
    this.punctuation('[');
    this.whitespace();
    if (this.text[this.pos] === ']') return this.punctuation(']');
    for (let index = 0; ; index++) {
      this.value([...path, index], depth);
      this.whitespace();
      if (this.text[this.pos] === ']') return this.punctuation(']');
      this.expect(path, ',', "',' or ']'");
      this.whitespace();
    }
  }

  private number(path: JsonPath): void {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail(path, 'invalid number');
    this.out.structure(match[0]);
    this.pos += match[0].length;
  }

  /**
   * A string literal. In a value, `$` starts references; a key is copied as written (keys are
   * never substituted). Returns the decoded string, for paths. Lone surrogates are written as
   * \uXXXX escapes so the body stays valid UTF-8 and still decodes to the same string.
   */
  private string(path: JsonPath, isValue: boolean): string {
    const start = this.pos;
    const emit = (text: string) => (isValue ? this.out.stringContent(text) : this.out.structure(text));
    this.punctuation('"');
    let runStart = this.pos;
    const flush = () => {
      if (this.pos > runStart) emit(this.text.slice(runStart, this.pos));
    };
    for (;;) {
      if (this.pos >= this.text.length) this.fail(path, 'unterminated string', start);
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22 /* " */) {
        flush();
        this.punctuation('"');
        return isValue ? '' : (JSON.parse(this.text.slice(start, this.pos)) as string);
      }
      if (code === 0x5c /* \ */) {
        this.escape(path);
      } else if (code < 0x20) {
        this.fail(path, 'control characters inside strings must be escaped (\\n, \\t, \\u00XX)');
      } else if (code === 0x24 /* $ */ && isValue) {
        flush();
        this.inStringDollar(path);
        runStart = this.pos;
      } else if (code >= 0xd800 && code <= 0xdfff) {
        const next = this.text.charCodeAt(this.pos + 1);
        if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          this.pos += 2;
        } else {
          flush();
          emit(`\\u${code.toString(16)}`);
          this.pos += 1;
          runStart = this.pos;
        }
      } else {
        this.pos += 1;
      }
    }
  }

  private escape(path: JsonPath): void {
    const kind = this.text[this.pos + 1];
    if (kind !== undefined && SIMPLE_ESCAPES.includes(kind)) {
      this.pos += 2;
      return;
    }
    if (kind === 'u') {
      HEX4.lastIndex = this.pos + 2;
      if (HEX4.test(this.text)) {
        this.pos += 6;
        return;
      }
    }
    this.fail(path, 'invalid escape sequence (JSON allows \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
  }

  private inStringDollar(path: JsonPath): void {
    const at = this.pos;
    const token = readDollar(this.text, at);
    if (token.type === 'reference') {
      this.references.push({ reference: token.reference, mode: 'in-string', path, position: this.positionOf(at) });
      this.out.hole(token.reference, 'in-string');
    } else {
      this.out.stringContent('$');
      if (token.type === 'malformed') {
        this.invalidPlaceholders.push({ path, reason: malformedReason(token.excerpt), position: this.positionOf(at) });
      }
    }
    this.pos = token.end;
  }

  private wholeValueReference(path: JsonPath): void {
    const at = this.pos;
    const token = readDollar(this.text, at);
    if (token.type === 'malformed') this.fail(path, malformedReason(token.excerpt));
    if (token.type !== 'reference') {
      this.fail(path, "unexpected '$': outside a string, '$' must start a reference such as ${metric_value}");
    }
    this.references.push({ reference: token.reference, mode: 'whole-value', path, position: this.positionOf(at) });
    this.out.hole(token.reference, 'whole-value');
    this.pos = token.end;
  }

  private whitespace(): void {
    WHITESPACE.lastIndex = this.pos;
    const match = WHITESPACE.exec(this.text);
    if (match && match[0]) {
      this.out.structure(match[0]);
      this.pos += match[0].length;
    }
  }

  private punctuation(char: string): void {
    this.out.structure(char);
    this.pos += 1;
  }

  private expect(path: JsonPath, char: string, wanted = `'${char}'`): void {
    if (this.text[this.pos] !== char) this.fail(path, `unexpected ${this.describeNext()}, expected ${wanted}`);
    this.punctuation(char);
  }

  private checkDepth(path: JsonPath, depth: number): void {
    if (depth > MAX_TEMPLATE_DEPTH) this.fail(path, `nests deeper than ${MAX_TEMPLATE_DEPTH} levels`);
  }

  private describeNext(): string {
    if (this.pos >= this.text.length) return 'end of text';
    const code = this.text.codePointAt(this.pos) ?? 0;
    return code < 0x20 ? `character U+${code.toString(16).padStart(4, '0').toUpperCase()}` : `'${String.fromCodePoint(code)}'`;
  }

  private positionOf(offset: number): TextPosition {
    this.lineStarts ??= lineStartsOf(this.text);
    // The last line start at or before offset (binary search: templates may be large).
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - this.lineStarts[low] + 1 };
  }

  private fail(path: JsonPath, reason: string, at = this.pos): never {
    throw new PayloadTemplateError([{ path, reason: `not valid JSON text: ${reason}`, position: this.positionOf(at) }]);
  }
}

export function malformedReason(excerpt: string): string {
  return `'${excerpt}' is not a valid reference: write \${name} with a variable or secret name, or $\${ for a literal '\${'`;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
