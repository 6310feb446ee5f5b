/* pdf_pdfa.c - PDF/A-3b metadata, output intent and identifier for a
 * libharu document. */
#include "config.h"

#include "pdf_pdfa.h"

#include "util.h"

#include <hpdf_doc.h>
#include <hpdf_encrypt.h>
#include <hpdf_objects.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ICC_MAX (4 << 20)

const char *sr_pdfa_icc_file(void)
{
    static const char *const candidates[] = {
        "/usr/share/color/icc/sRGB.icc",
        "/usr/share/color/icc/colord/sRGB.icc",
        "/usr/share/color/icc/ghostscript/srgb.icc",
    };
    const char *env = getenv("SR_ICC_PROFILE");
    if (env && *env)
        return env;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return "";
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads an RGB display or colour-space profile of ICC version 2 or 4. */
static int read_icc(const char *file, char **data, size_t *len, char *err, size_t errlen)
{
    char why[SR_MSG_MAX];
    if (!*file) {
        snprintf(err, errlen, "no sRGB ICC profile is installed (install icc-profiles-free, or set SR_ICC_PROFILE)");
        return -1;
    }
    if (sr_read_file(file, ICC_MAX, data, len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", file, why);
        return -1;
    }
    const unsigned char *u = (const unsigned char *)*data;
    const char *bad = NULL;
    if (*len < 132)
        bad = "too short for an ICC profile";
    else if (be32(u) != *len)
        bad = "its header gives another size";
    else if (memcmp(u + 36, "acsp", 4) != 0)
        bad = "no 'acsp' signature";
    else if (memcmp(u + 16, "RGB ", 4) != 0)
        bad = "not an RGB profile";
    else if (u[8] != 2 && u[8] != 4)
        bad = "neither ICC version 2 nor 4";
    if (bad) {
        snprintf(err, errlen, "%s: %s", file, bad);
        free(*data);
        *data = NULL;
        return -1;
    }
    return 0;
}

int sr_pdfa_check_icc(char *err, size_t errlen)
{
    char *icc = NULL;
    size_t len = 0;
    if (read_icc(sr_pdfa_icc_file(), &icc, &len, err, errlen) != 0)
        return -1;
    free(icc);
    return 0;
}

static void xml_text(sr_buf *b, const char *s)
{
    /* XML is UTF-8: a folder name may be any bytes */
    char *fixed = sr_utf8_repair(s ? s : "");
    for (const unsigned char *u = (const unsigned char *)(fixed ? fixed : s ? s : ""); *u; u++) {
        if (*u == '&')
            sr_buf_puts(b, "&amp;");
        else if (*u == '<')
            sr_buf_puts(b, "&lt;");
        else if (*u == '>')
            sr_buf_puts(b, "&gt;");
        else if (*u == '"')
            sr_buf_puts(b, "&quot;");
        else if (*u < 0x20 && *u != '\t' && *u != '\n')
            sr_buf_puts(b, " "); /* not allowed in XML 1.0 */
        else
            sr_buf_append(b, u, 1);
    }
    free(fixed);
}

int sr_pdfa_xmp_date(const char *d, char *out, size_t len)
{
    if (!d || strncmp(d, "D:", 2) != 0 || strlen(d) < 16 || strspn(d + 2, "0123456789") < 14)
        return -1;
    d += 2;
    char zone[8] = "Z";
    const char *z = d + 14;
    if (*z == '+' || *z == '-') {
        if (strlen(z) < 6 || strspn(z + 1, "0123456789") != 2 || z[3] != '\'' ||
            strspn(z + 4, "0123456789") != 2)
            return -1;
        snprintf(zone, sizeof zone, "%c%.2s:%.2s", z[0], z + 1, z + 4);
    } else if (*z != 'Z' && *z != '\0') {
        return -1;
    }
    snprintf(out, len, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%s", d, d + 4, d + 6, d + 8, d + 10, d + 12, zone);
    return 0;
}

/* The XMP packet.  Every value of the information dictionary is repeated
 * in its XMP property, as PDF/A asks. */
static char *xmp_packet(HPDF_Doc doc, const sr_pdfa_property *props, size_t n)
{
    sr_buf b;
    sr_buf_init(&b);
    const char *title = HPDF_GetInfoAttr(doc, HPDF_INFO_TITLE);
    const char *author = HPDF_GetInfoAttr(doc, HPDF_INFO_AUTHOR);
    const char *subject = HPDF_GetInfoAttr(doc, HPDF_INFO_SUBJECT);
    const char *keywords = HPDF_GetInfoAttr(doc, HPDF_INFO_KEYWORDS);
    const char *creator = HPDF_GetInfoAttr(doc, HPDF_INFO_CREATOR);
    const char *producer = HPDF_GetInfoAttr(doc, HPDF_INFO_PRODUCER);
    char created[40] = "";
    if (sr_pdfa_xmp_date(HPDF_GetInfoAttr(doc, HPDF_INFO_CREATION_DATE), created, sizeof created) != 0)
        created[0] = '\0';

    sr_buf_puts(&b, "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n");
    /* sweepreport's properties first: the cheapest to find again */
    sr_buf_puts(&b, "<rdf:Description rdf:about=\"\" xmlns:" SR_PDFA_PREFIX "=\"" SR_PDFA_NS "\">\n");
    for (size_t i = 0; i < n; i++) {
        sr_buf_printf(&b, " <" SR_PDFA_PREFIX ":%s>", props[i].name);
        xml_text(&b, props[i].value);
        sr_buf_printf(&b, "</" SR_PDFA_PREFIX ":%s>\n", props[i].name);
    }
    sr_buf_puts(&b, "</rdf:Description>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
                    " <pdfaid:part>3</pdfaid:part>\n"
                    " <pdfaid:conformance>B</pdfaid:conformance>\n"
                    "</rdf:Description>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
                    " <dc:format>application/pdf</dc:format>\n");
    if (title) {
        sr_buf_puts(&b, " <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">");
        xml_text(&b, title);
        sr_buf_puts(&b, "</rdf:li></rdf:Alt></dc:title>\n");
    }
    if (author) {
        sr_buf_puts(&b, " <dc:creator><rdf:Seq><rdf:li>");
        xml_text(&b, author);
        sr_buf_puts(&b, "</rdf:li></rdf:Seq></dc:creator>\n");
    }
    if (subject) {
        sr_buf_puts(&b, " <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">");
        xml_text(&b, subject);
        sr_buf_puts(&b, "</rdf:li></rdf:Alt></dc:description>\n");
    }
    sr_buf_puts(&b, "</rdf:Description>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n");
    if (creator) {
        sr_buf_puts(&b, " <xmp:CreatorTool>");
        xml_text(&b, creator);
        sr_buf_puts(&b, "</xmp:CreatorTool>\n");
    }
    if (*created)
        sr_buf_printf(&b, " <xmp:CreateDate>%s</xmp:CreateDate>\n <xmp:MetadataDate>%s</xmp:MetadataDate>\n",
                      created, created);
    sr_buf_puts(&b, "</rdf:Description>\n"
                    "<rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n");
    if (producer) {
        sr_buf_puts(&b, " <pdf:Producer>");
        xml_text(&b, producer);
        sr_buf_puts(&b, "</pdf:Producer>\n");
    }
    if (keywords) {
        sr_buf_puts(&b, " <pdf:Keywords>");
        xml_text(&b, keywords);
        sr_buf_puts(&b, "</pdf:Keywords>\n");
    }
    /* the extension schema that declares sweepreport's properties */
    sr_buf_puts(&b, "</rdf:Description>\n"
                    "<rdf:Description rdf:about=\"\"\n"
                    "  xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\"\n"
                    "  xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\"\n"
                    "  xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n"
                    " <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\n"
                    "  <pdfaSchema:schema>sweepreport archive</pdfaSchema:schema>\n"
                    "  <pdfaSchema:namespaceURI>" SR_PDFA_NS "</pdfaSchema:namespaceURI>\n"
                    "  <pdfaSchema:prefix>" SR_PDFA_PREFIX "</pdfaSchema:prefix>\n"
                    "  <pdfaSchema:property><rdf:Seq>\n");
    for (size_t i = 0; i < n; i++) {
        sr_buf_printf(&b,
                      "   <rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>%s</pdfaProperty:name>"
                      "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
                      "<pdfaProperty:category>internal</pdfaProperty:category><pdfaProperty:description>",
                      props[i].name);
        xml_text(&b, props[i].about);
        sr_buf_puts(&b, "</pdfaProperty:description></rdf:li>\n");
    }
    sr_buf_puts(&b, "  </rdf:Seq></pdfaSchema:property>\n"
                    " </rdf:li></rdf:Bag></pdfaExtension:schemas>\n"
                    "</rdf:Description>\n"
                    "</rdf:RDF>\n"
                    "</x:xmpmeta>\n");
    /* room for editors to update the packet in place */
    for (int i = 0; i < 20; i++)
        sr_buf_printf(&b, "%99s\n", "");
    sr_buf_puts(&b, "<?xpacket end=\"w\"?>");
    return sr_buf_steal(&b);
}

/* A file identifier from the metadata, the time and the process. */
static HPDF_STATUS add_id(HPDF_Doc doc, const char *xmp)
{
    HPDF_MD5_CTX ctx;
    HPDF_BYTE key[HPDF_MD5_KEY_LEN];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long salt[3] = {(long)ts.tv_sec, ts.tv_nsec, (long)getpid()};
    HPDF_MD5Init(&ctx);
    HPDF_MD5Update(&ctx, (const HPDF_BYTE *)xmp, (HPDF_UINT32)strlen(xmp));
    HPDF_MD5Update(&ctx, (const HPDF_BYTE *)salt, (HPDF_UINT32)sizeof salt);
    HPDF_MD5Final(key, &ctx);
    HPDF_Array id = HPDF_Array_New(doc->mmgr);
    if (!id)
        return HPDF_FAILD_TO_ALLOC_MEM;
    HPDF_STATUS st = HPDF_Dict_Add(doc->trailer, "ID", id);
    if (st == HPDF_OK)
        st = HPDF_Array_Add(id, HPDF_Binary_New(doc->mmgr, key, HPDF_MD5_KEY_LEN));
    if (st == HPDF_OK)
        st = HPDF_Array_Add(id, HPDF_Binary_New(doc->mmgr, key, HPDF_MD5_KEY_LEN));
    return st;
}

int sr_pdfa_prepare(HPDF_Doc doc, const sr_pdfa_property *props, size_t n_props, char *err, size_t errlen)
{
    const char *icc_file = sr_pdfa_icc_file();
    char *icc = NULL;
    size_t icc_len = 0;
    if (read_icc(icc_file, &icc, &icc_len, err, errlen) != 0)
        return -1;

    /* the metadata, uncompressed so that it can be read without a PDF parser */
    char *xmp = xmp_packet(doc, props, n_props);
    HPDF_STATUS st = HPDF_OK;
    HPDF_Dict meta = HPDF_DictStream_New(doc->mmgr, doc->xref);
    if (!meta)
        st = HPDF_FAILD_TO_ALLOC_MEM;
    if (st == HPDF_OK)
        st = HPDF_Dict_AddName(meta, "Type", "Metadata");
    if (st == HPDF_OK)
        st = HPDF_Dict_AddName(meta, "Subtype", "XML");
    if (st == HPDF_OK)
        st = HPDF_Stream_Write(meta->stream, (const HPDF_BYTE *)xmp, (HPDF_UINT)strlen(xmp));
    if (st == HPDF_OK)
        st = HPDF_Dict_Add(doc->catalog, "Metadata", meta);

    /* the output intent and its profile */
    HPDF_Dict profile = st == HPDF_OK ? HPDF_DictStream_New(doc->mmgr, doc->xref) : NULL;
    if (st == HPDF_OK && !profile)
        st = HPDF_FAILD_TO_ALLOC_MEM;
    if (st == HPDF_OK) {
        profile->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
        st = HPDF_Dict_AddNumber(profile, "N", 3);
    }
    if (st == HPDF_OK)
        st = HPDF_Dict_AddName(profile, "Alternate", "DeviceRGB");
    if (st == HPDF_OK)
        st = HPDF_Stream_Write(profile->stream, (const HPDF_BYTE *)icc, (HPDF_UINT)icc_len);
    HPDF_Dict intent = st == HPDF_OK ? HPDF_Dict_New(doc->mmgr) : NULL;
    if (st == HPDF_OK && !intent)
        st = HPDF_FAILD_TO_ALLOC_MEM;
    if (st == HPDF_OK)
        st = HPDF_Xref_Add(doc->xref, intent);
    if (st == HPDF_OK)
        st = HPDF_Dict_AddName(intent, "Type", "OutputIntent");
    if (st == HPDF_OK)
        st = HPDF_Dict_AddName(intent, "S", "GTS_PDFA1");
    if (st == HPDF_OK)
        st = HPDF_Dict_Add(intent, "OutputConditionIdentifier", HPDF_String_New(doc->mmgr, SR_PDFA_SRGB, NULL));
    if (st == HPDF_OK)
        st = HPDF_Dict_Add(intent, "Info", HPDF_String_New(doc->mmgr, SR_PDFA_SRGB, NULL));
    if (st == HPDF_OK)
        st = HPDF_Dict_Add(intent, "RegistryName", HPDF_String_New(doc->mmgr, "http://www.color.org", NULL));
    if (st == HPDF_OK)
        st = HPDF_Dict_Add(intent, "DestOutputProfile", profile);
    HPDF_Array intents = st == HPDF_OK ? HPDF_Array_New(doc->mmgr) : NULL;
    if (st == HPDF_OK && !intents)
        st = HPDF_FAILD_TO_ALLOC_MEM;
    if (st == HPDF_OK)
        st = HPDF_Dict_Add(doc->catalog, "OutputIntents", intents);
    if (st == HPDF_OK)
        st = HPDF_Array_Add(intents, intent);

    if (st == HPDF_OK)
        st = add_id(doc, xmp);
    /* PDF/A-3 builds on ISO 32000-1, which is PDF 1.7 */
    doc->pdf_version = HPDF_VER_17;
    free(xmp);
    free(icc);
    if (st != HPDF_OK) {
        snprintf(err, errlen, "cannot add the PDF/A metadata and output intent (libharu error 0x%04X)", (unsigned)st);
        return -1;
    }
    return 0;
}
