/**
 * Reads reply XML back with xml-js (an independent parser) so tests check what WeChat would see,
 * not the string our serializer happened to build.
 */
import { xml2js, type Element } from 'xml-js'

export interface XmlNode {
  name: string
  /** Concatenated text and CDATA content (split CDATA sections joined back). */
  text: string
  /** 'cdata' when every content piece is CDATA, 'text' when none is, 'mixed' otherwise; '' if empty. */
  content: 'cdata' | 'text' | 'mixed' | ''
  children: XmlNode[]
}

export function readXml(xml: string): XmlNode {
  const doc = xml2js(xml, { compact: false }) as Element
  const roots = (doc.elements ?? []).filter((el) => el.type === 'element')
  if (roots.length !== 1) throw new Error(`expected one root element, got ${roots.length}`)
  return toNode(roots[0])
}

function toNode(el: Element): XmlNode {
  const children: XmlNode[] = []
  let text = ''
  let cdataPieces = 0
  let textPieces = 0
  for (const child of el.elements ?? []) {
    if (child.type === 'element') children.push(toNode(child))
    else if (child.type === 'cdata') {
      text += String(child.cdata)
      cdataPieces++
    } else if (child.type === 'text') {
      text += String(child.text)
      textPieces++
    }
  }
  const content = cdataPieces && textPieces ? 'mixed' : cdataPieces ? 'cdata' : textPieces ? 'text' : ''
  return { name: String(el.name), text, content, children }
}

/** The child with that name; throws if absent or repeated, so a test cannot pass on a missing field. */
export function child(node: XmlNode, name: string): XmlNode {
  const found = node.children.filter((c) => c.name === name)
  if (found.length !== 1) throw new Error(`<${node.name}> has ${found.length} <${name}> children`)
  return found[0]
}

export function childText(node: XmlNode, name: string): string {
  return child(node, name).text
}

export function childNames(node: XmlNode): string[] {
  return node.children.map((c) => c.name)
}

/** Element names depth-first, e.g. ['xml', 'xml/ToUserName', ...]: the shape without the values. */
export function skeleton(node: XmlNode, prefix = ''): string[] {
  const path = prefix ? `${prefix}/${node.name}` : node.name
  return [path, ...node.children.flatMap((c) => skeleton(c, path))]
}

/** XML 1.0 Char production, checked on the raw output (sax does not reject these). */
export function hasForbiddenXmlChars(xml: string): boolean {
  return /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(
    xml,
  )
}
