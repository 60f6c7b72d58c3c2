package io.xenops.driver.libvirt;

import java.io.IOException;
import java.io.StringReader;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/** The little XML the driver writes and reads: escaping for generation, a locked-down parser for reading. */
final class Xml {
    private Xml() {}

    /**
     * Escapes text for an element body or a quoted attribute. Rejects characters XML 1.0 cannot carry at
     * all (most C0 controls): libvirt would refuse the whole document with a less helpful message.
     */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                        throw new IllegalArgumentException("character 0x" + Integer.toHexString(c) + " cannot appear in XML");
                    }
                    b.append(c);
                }
            }
        }
        return b.toString();
    }

    /** Parses XML from libvirt. No DTDs, no external entities: the text comes from another process. */
    static Document parse(String xml) throws IOException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(true);
            DocumentBuilder db = f.newDocumentBuilder();
            db.setErrorHandler(null); // errors arrive as exceptions, not as noise on stderr
            return db.parse(new InputSource(new StringReader(xml)));
        } catch (ParserConfigurationException | SAXException e) {
            throw new IOException("unparseable XML: " + e.getMessage(), e);
        }
    }
}
