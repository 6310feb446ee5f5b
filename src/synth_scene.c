/* synth_scene.c - cairo drawings for the synthetic evaluation samples.
 *
 * A scene is drawn in unit coordinates (0..1 both ways, y down), then the
 * style is applied to the pixels: softness for low detail, a tint, saturation,
 * contrast and tone, and for over-trained checkpoints sharpening halos and
 * posterization on top of ghosted shapes and burnt streaks. */
#include "config.h"

#include "synth_scene.h"
#include "util.h"

#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const char *const prompts[] = {
    "luca, a boy standing on a grassy hill at sunset, 3d animation style",
    "a colorful seaside village at noon, boats in the harbor, 3d animation style",
    "luca looking at the full moon over the hills at night, stars, 3d animation style",
    "luca swimming near a small fishing boat, sunny sea, 3d animation style",
    "two friends on a country road between cypress trees, summer, 3d animation style",
    "a lighthouse on a cliff by the sea at dusk, 3d animation style",
    "a village piazza with a fountain in the morning, 3d animation style",
    "a forest clearing at night with fireflies, 3d animation style",
};
#define N_PROMPTS ((int)(sizeof prompts / sizeof prompts[0]))

const char *sr_scene_prompt(int index)
{
    if (index < 0)
        index = -index;
    return prompts[index % N_PROMPTS];
}

int sr_scene_prompt_count(void)
{
    return N_PROMPTS;
}

/* ---------------------------------------------------------------------------
 * Scene description
 * ------------------------------------------------------------------------- */

typedef struct {
    double r, g, b;
} col;

enum { TOD_DAY, TOD_SUNSET, TOD_NIGHT, TOD_DUSK, TOD_MORNING };

typedef struct {
    double y0, amp, freq, phase; /* y(x) = y0 + amp*sin(freq*x + phase) + curv*max(0, x-xc)^2 */
    double curv, xc;
    double ymin;     /* y(x) never above this (a plateau), before the wave */
    int clip;        /* drawn only above the horizon (land across the sea) */
    col top, bottom;
} hill;

typedef struct {
    int tod;
    int moon;
    double sun_x, sun_y, sun_r;
    double horizon;
    int sea;
    int n_hills;
    hill h[3];
    col light; /* multiplies object colours */
    int stars, clouds, birds, fireflies, grass, waves;
    uint64_t seed;
} scene;

static col C(double r, double g, double b)
{
    col c = {r, g, b};
    return c;
}

static col mix(col a, col b, double t)
{
    return C(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t);
}

static double hill_y(const hill *h, double x)
{
    double d = x > h->xc ? x - h->xc : 0;
    double y = h->y0 + h->curv * d * d;
    if (y < h->ymin)
        y = h->ymin;
    return y + h->amp * sin(h->freq * x + h->phase);
}

static void set_col(cairo_t *cr, const scene *sc, col c, double alpha)
{
    cairo_set_source_rgba(cr, c.r * sc->light.r, c.g * sc->light.g, c.b * sc->light.b, alpha);
}

static void sky_colors(int tod, col *top, col *bottom)
{
    switch (tod) {
    case TOD_SUNSET: *top = C(0.30, 0.22, 0.52); *bottom = C(0.99, 0.62, 0.32); break;
    case TOD_NIGHT: *top = C(0.02, 0.04, 0.13); *bottom = C(0.13, 0.19, 0.38); break;
    case TOD_DUSK: *top = C(0.20, 0.25, 0.55); *bottom = C(0.95, 0.66, 0.58); break;
    case TOD_MORNING: *top = C(0.42, 0.62, 0.90); *bottom = C(0.99, 0.88, 0.72); break;
    default: *top = C(0.22, 0.50, 0.90); *bottom = C(0.72, 0.86, 0.98); break;
    }
}

static col light_of(int tod)
{
    switch (tod) {
    case TOD_SUNSET: return C(1.0, 0.80, 0.66);
    case TOD_NIGHT: return C(0.33, 0.38, 0.58);
    case TOD_DUSK: return C(0.78, 0.70, 0.78);
    case TOD_MORNING: return C(1.0, 0.94, 0.86);
    default: return C(1.0, 1.0, 1.0);
    }
}

static void make_hill(hill *h, double y0, double amp, double freq, double phase, col top, col bottom)
{
    h->y0 = y0;
    h->amp = amp;
    h->freq = freq;
    h->phase = phase;
    h->curv = 0;
    h->xc = 2;
    h->ymin = -10;
    h->clip = 0;
    h->top = top;
    h->bottom = bottom;
}

/* The composition of a prompt; indexes past the list reuse a composition
 * with shifted positions. */
static void build_scene(scene *sc, int index)
{
    memset(sc, 0, sizeof *sc);
    int k = (index < 0 ? -index : index) % N_PROMPTS;
    int round = (index < 0 ? -index : index) / N_PROMPTS;
    sr_rng rng;
    sr_rng_seed(&rng, 0x5ce9e000ULL + (uint64_t)index);
    double jx = round ? (sr_rng_uniform(&rng) - 0.5) * 0.2 : 0;
    double jp = round ? (sr_rng_uniform(&rng) - 0.5) * 1.5 : 0;
    sc->seed = 0x9a55ULL * 1000003ULL + (uint64_t)index;
    col g_far = C(0.45, 0.62, 0.48), g_mid = C(0.33, 0.62, 0.28), g_near = C(0.22, 0.52, 0.16);
    col g_dark = C(0.12, 0.36, 0.10);
    switch (k) {
    case 0: /* boy on a hill at sunset */
        sc->tod = TOD_SUNSET;
        sc->sun_x = 0.70 + jx; sc->sun_y = 0.46; sc->sun_r = 0.075;
        sc->horizon = 0.55;
        sc->n_hills = 3;
        make_hill(&sc->h[0], 0.56, 0.04, 5.0, 1.0 + jp, C(0.55, 0.42, 0.55), C(0.50, 0.40, 0.48));
        make_hill(&sc->h[1], 0.66, 0.05, 3.2, 2.4 + jp, C(0.42, 0.48, 0.30), C(0.30, 0.40, 0.22));
        make_hill(&sc->h[2], 0.78, 0.07, 2.1, 0.3 + jp, g_near, g_dark);
        sc->grass = 160; sc->birds = 3; sc->clouds = 2;
        break;
    case 1: /* seaside village at noon */
        sc->tod = TOD_DAY;
        sc->sun_x = 0.84 + jx; sc->sun_y = 0.14; sc->sun_r = 0.06;
        sc->horizon = 0.52; sc->sea = 1;
        sc->n_hills = 2;
        make_hill(&sc->h[0], 0.46, 0.02, 9.0, 0.5 + jp, C(0.50, 0.62, 0.62), C(0.48, 0.60, 0.60));
        sc->h[0].curv = 0.3; sc->h[0].xc = 0.5; sc->h[0].clip = 1;
        make_hill(&sc->h[1], 0.64, 0.02, 5.0, 1.2 + jp, C(0.72, 0.66, 0.42), C(0.56, 0.48, 0.30));
        sc->h[1].curv = 8.0; sc->h[1].xc = 0.36;
        sc->clouds = 3; sc->waves = 50; sc->birds = 2;
        break;
    case 2: /* full moon over the hills */
        sc->tod = TOD_NIGHT; sc->moon = 1;
        sc->sun_x = 0.26 + jx; sc->sun_y = 0.20; sc->sun_r = 0.07;
        sc->horizon = 0.60;
        sc->n_hills = 2;
        make_hill(&sc->h[0], 0.62, 0.05, 4.0, 0.2 + jp, C(0.25, 0.32, 0.42), C(0.20, 0.26, 0.36));
        make_hill(&sc->h[1], 0.78, 0.06, 2.6, 1.9 + jp, g_mid, g_dark);
        sc->stars = 90; sc->grass = 110; sc->fireflies = 6;
        break;
    case 3: /* swimming near a boat */
        sc->tod = TOD_DAY;
        sc->sun_x = 0.18 + jx; sc->sun_y = 0.16; sc->sun_r = 0.055;
        sc->horizon = 0.44; sc->sea = 1;
        sc->n_hills = 1;
        make_hill(&sc->h[0], 0.41, 0.015, 7.0, 2.0 + jp, C(0.45, 0.58, 0.60), C(0.42, 0.55, 0.58));
        sc->h[0].curv = 0.4; sc->h[0].xc = 0.45; sc->h[0].clip = 1;
        sc->clouds = 4; sc->waves = 90; sc->birds = 3;
        break;
    case 4: /* two friends on a country road */
        sc->tod = TOD_DAY;
        sc->sun_x = 0.62 + jx; sc->sun_y = 0.12; sc->sun_r = 0.05;
        sc->horizon = 0.50;
        sc->n_hills = 3;
        make_hill(&sc->h[0], 0.50, 0.04, 6.0, 0.7 + jp, g_far, mix(g_far, g_mid, 0.5));
        make_hill(&sc->h[1], 0.60, 0.04, 3.6, 2.0 + jp, C(0.72, 0.68, 0.30), C(0.62, 0.58, 0.25));
        make_hill(&sc->h[2], 0.72, 0.03, 2.4, 0.9 + jp, g_near, g_dark);
        sc->clouds = 3; sc->grass = 140;
        break;
    case 5: /* lighthouse at dusk */
        sc->tod = TOD_DUSK; sc->moon = 1;
        sc->sun_x = 0.20 + jx; sc->sun_y = 0.22; sc->sun_r = 0.035;
        sc->horizon = 0.58; sc->sea = 1;
        sc->n_hills = 1;
        /* a cliff rising on the right */
        make_hill(&sc->h[0], 1.05, 0.015, 9.0, 0.4 + jp, C(0.40, 0.42, 0.30), C(0.30, 0.26, 0.22));
        sc->h[0].curv = -14.0; sc->h[0].xc = 0.52; sc->h[0].ymin = 0.62;
        sc->stars = 30; sc->waves = 60; sc->birds = 2;
        break;
    case 6: /* village piazza in the morning */
        sc->tod = TOD_MORNING;
        sc->sun_x = 0.15 + jx; sc->sun_y = 0.28; sc->sun_r = 0.06;
        sc->horizon = 0.58;
        sc->n_hills = 2;
        make_hill(&sc->h[0], 0.50, 0.04, 4.0, 1.5 + jp, C(0.50, 0.60, 0.55), C(0.46, 0.56, 0.50));
        make_hill(&sc->h[1], 0.70, 0.0, 1.0, 0.0, C(0.80, 0.72, 0.60), C(0.66, 0.58, 0.48));
        sc->clouds = 2; sc->grass = 60; sc->birds = 3;
        break;
    default: /* forest clearing with fireflies */
        sc->tod = TOD_NIGHT; sc->moon = 1;
        sc->sun_x = 0.78 + jx; sc->sun_y = 0.16; sc->sun_r = 0.05;
        sc->horizon = 0.62;
        sc->n_hills = 2;
        make_hill(&sc->h[0], 0.60, 0.05, 5.0, 0.9 + jp, C(0.15, 0.26, 0.22), C(0.12, 0.22, 0.18));
        make_hill(&sc->h[1], 0.80, 0.03, 3.0, 2.2 + jp, C(0.20, 0.45, 0.22), C(0.10, 0.30, 0.12));
        sc->stars = 60; sc->fireflies = 30; sc->grass = 120;
        break;
    }
    sc->light = light_of(sc->tod);
}

/* ---------------------------------------------------------------------------
 * Elements
 * ------------------------------------------------------------------------- */

static void draw_sky(cairo_t *cr, const scene *sc)
{
    col top, bottom;
    sky_colors(sc->tod, &top, &bottom);
    cairo_pattern_t *p = cairo_pattern_create_linear(0, 0, 0, sc->horizon + 0.05);
    cairo_pattern_add_color_stop_rgb(p, 0, top.r, top.g, top.b);
    col midc = mix(top, bottom, 0.55);
    cairo_pattern_add_color_stop_rgb(p, 0.6, midc.r, midc.g, midc.b);
    cairo_pattern_add_color_stop_rgb(p, 1, bottom.r, bottom.g, bottom.b);
    cairo_set_source(cr, p);
    cairo_paint(cr);
    cairo_pattern_destroy(p);
}

static void draw_stars(cairo_t *cr, const scene *sc, double detail)
{
    sr_rng r;
    sr_rng_seed(&r, sc->seed ^ 0x57a25ULL);
    int n = (int)(sc->stars * (0.35 + 0.65 * detail));
    for (int i = 0; i < sc->stars; i++) {
        double x = sr_rng_uniform(&r), y = sr_rng_uniform(&r) * sc->horizon * 0.9;
        double rad = 0.0025 + 0.004 * sr_rng_uniform(&r), a = 0.45 + 0.55 * sr_rng_uniform(&r);
        if (i >= n)
            continue;
        cairo_set_source_rgba(cr, 1.0, 0.97, 0.85, a * (1.0 - 0.8 * y / sc->horizon));
        cairo_arc(cr, x, y, rad, 0, 2 * M_PI);
        cairo_fill(cr);
    }
}

static void draw_sun_or_moon(cairo_t *cr, const scene *sc)
{
    double x = sc->sun_x, y = sc->sun_y, r = sc->sun_r;
    col c = sc->moon ? C(0.96, 0.95, 0.86) : (sc->tod == TOD_SUNSET ? C(1.0, 0.78, 0.38) : C(1.0, 0.96, 0.72));
    cairo_pattern_t *glow = cairo_pattern_create_radial(x, y, r * 0.8, x, y, r * (sc->moon ? 3.0 : 4.0));
    cairo_pattern_add_color_stop_rgba(glow, 0, c.r, c.g, c.b, sc->moon ? 0.35 : 0.55);
    cairo_pattern_add_color_stop_rgba(glow, 1, c.r, c.g, c.b, 0);
    cairo_set_source(cr, glow);
    cairo_paint(cr);
    cairo_pattern_destroy(glow);
    int crescent = sc->moon && r < 0.06;
    cairo_save(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    cairo_clip(cr);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    if (crescent) { /* the disc less an offset disc */
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
        cairo_rectangle(cr, x - 2 * r, y - 2 * r, 4 * r, 4 * r);
        cairo_new_sub_path(cr);
        cairo_arc(cr, x + r * 0.45, y - r * 0.25, r * 0.9, 0, 2 * M_PI);
        cairo_fill(cr);
    } else {
        cairo_paint(cr);
    }
    if (sc->moon && !crescent) { /* craters */
        cairo_set_source_rgba(cr, 0.75, 0.74, 0.68, 0.55);
        cairo_arc(cr, x - r * 0.3, y - r * 0.2, r * 0.22, 0, 2 * M_PI);
        cairo_fill(cr);
        cairo_arc(cr, x + r * 0.25, y + r * 0.3, r * 0.15, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    cairo_restore(cr);
}

static void draw_cloud(cairo_t *cr, const scene *sc, double x, double y, double s)
{
    col c = sc->tod == TOD_SUNSET ? C(1.0, 0.80, 0.75) : C(1.0, 1.0, 1.0);
    cairo_set_source_rgba(cr, c.r * 0.82, c.g * 0.84, c.b * 0.9, 0.9);
    cairo_arc(cr, x + 0.02 * s, y + 0.012 * s, 0.05 * s, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_set_source_rgba(cr, c.r, c.g, c.b, 0.92);
    cairo_arc(cr, x - 0.05 * s, y, 0.035 * s, 0, 2 * M_PI);
    cairo_arc(cr, x, y - 0.02 * s, 0.05 * s, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_arc(cr, x + 0.055 * s, y + 0.005 * s, 0.038 * s, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_rectangle(cr, x - 0.05 * s, y, 0.105 * s, 0.035 * s);
    cairo_fill(cr);
}

static void draw_birds(cairo_t *cr, const scene *sc)
{
    sr_rng r;
    sr_rng_seed(&r, sc->seed ^ 0xb1d5ULL);
    cairo_set_line_width(cr, 0.006);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int i = 0; i < sc->birds; i++) {
        double x = 0.2 + 0.6 * sr_rng_uniform(&r), y = 0.1 + 0.2 * sr_rng_uniform(&r);
        double w = 0.018 + 0.012 * sr_rng_uniform(&r);
        cairo_set_source_rgba(cr, 0.15, 0.12, 0.18, 0.85);
        cairo_move_to(cr, x - w, y - w * 0.4);
        cairo_curve_to(cr, x - w * 0.5, y - w * 0.7, x - w * 0.2, y - w * 0.3, x, y);
        cairo_curve_to(cr, x + w * 0.2, y - w * 0.3, x + w * 0.5, y - w * 0.7, x + w, y - w * 0.4);
        cairo_stroke(cr);
    }
}

static void draw_sea(cairo_t *cr, const scene *sc, double detail)
{
    col top = sc->tod == TOD_NIGHT ? C(0.08, 0.14, 0.30) : C(0.20, 0.55, 0.72);
    col deep = sc->tod == TOD_NIGHT ? C(0.03, 0.06, 0.16) : C(0.06, 0.30, 0.52);
    if (sc->tod == TOD_DUSK) {
        top = C(0.45, 0.45, 0.62);
        deep = C(0.14, 0.18, 0.36);
    }
    cairo_pattern_t *p = cairo_pattern_create_linear(0, sc->horizon, 0, 1);
    cairo_pattern_add_color_stop_rgb(p, 0, top.r, top.g, top.b);
    cairo_pattern_add_color_stop_rgb(p, 1, deep.r, deep.g, deep.b);
    cairo_set_source(cr, p);
    cairo_rectangle(cr, 0, sc->horizon, 1, 1 - sc->horizon);
    cairo_fill(cr);
    cairo_pattern_destroy(p);
    /* Sun glitter on the water, fading towards the viewer. */
    col g = sc->moon ? C(0.9, 0.9, 0.8) : C(1.0, 0.95, 0.75);
    cairo_pattern_t *gp = cairo_pattern_create_linear(0, sc->horizon, 0, 1);
    cairo_pattern_add_color_stop_rgba(gp, 0, g.r, g.g, g.b, 0.30);
    cairo_pattern_add_color_stop_rgba(gp, 1, g.r, g.g, g.b, 0.0);
    cairo_set_source(cr, gp);
    cairo_move_to(cr, sc->sun_x - 0.02, sc->horizon);
    cairo_line_to(cr, sc->sun_x + 0.02, sc->horizon);
    cairo_line_to(cr, sc->sun_x + 0.07, 1);
    cairo_line_to(cr, sc->sun_x - 0.07, 1);
    cairo_close_path(cr);
    cairo_fill(cr);
    cairo_pattern_destroy(gp);
    /* Waves: short arcs, more of them with detail. */
    sr_rng r;
    sr_rng_seed(&r, sc->seed ^ 0x3a7e5ULL);
    int n = (int)(sc->waves * (0.3 + 0.7 * detail));
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int i = 0; i < sc->waves; i++) {
        double x = sr_rng_uniform(&r), t = sr_rng_uniform(&r);
        double y = sc->horizon + 0.01 + (1 - sc->horizon) * t * t;
        double w = 0.01 + 0.03 * t;
        if (i >= n)
            continue;
        cairo_set_line_width(cr, 0.002 + 0.004 * t);
        cairo_set_source_rgba(cr, 0.85, 0.93, 1.0, 0.35 + 0.3 * t);
        cairo_move_to(cr, x - w, y);
        cairo_curve_to(cr, x - w * 0.3, y - w * 0.35, x + w * 0.3, y - w * 0.35, x + w, y);
        cairo_stroke(cr);
    }
}

static void hill_path(cairo_t *cr, const hill *h)
{
    cairo_move_to(cr, -0.01, hill_y(h, -0.01));
    for (int i = 0; i <= 64; i++) {
        double x = -0.01 + 1.02 * i / 64.0;
        cairo_line_to(cr, x, hill_y(h, x));
    }
    cairo_line_to(cr, 1.01, 1.01);
    cairo_line_to(cr, -0.01, 1.01);
    cairo_close_path(cr);
}

static void draw_hill(cairo_t *cr, const scene *sc, const hill *h)
{
    double top = h->y0 - fabs(h->amp);
    if (top > 0.95)
        top = 0.5;
    cairo_pattern_t *p = cairo_pattern_create_linear(0, top, 0, 1);
    cairo_pattern_add_color_stop_rgb(p, 0, h->top.r * sc->light.r, h->top.g * sc->light.g, h->top.b * sc->light.b);
    cairo_pattern_add_color_stop_rgb(p, 1, h->bottom.r * sc->light.r, h->bottom.g * sc->light.g,
                                     h->bottom.b * sc->light.b);
    cairo_save(cr);
    if (h->clip) {
        cairo_rectangle(cr, 0, 0, 1, sc->horizon);
        cairo_clip(cr);
    }
    hill_path(cr, h);
    cairo_set_source(cr, p);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_pattern_destroy(p);
}

static void draw_grass(cairo_t *cr, const scene *sc, const hill *h, double detail)
{
    sr_rng r;
    sr_rng_seed(&r, sc->seed ^ 0x6a55ULL);
    int n = (int)(sc->grass * (0.25 + 0.75 * detail));
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int i = 0; i < sc->grass; i++) {
        double x = sr_rng_uniform(&r), t = sr_rng_uniform(&r), shade = sr_rng_uniform(&r);
        double dx = (sr_rng_uniform(&r) - 0.5) * 0.02;
        double y0 = hill_y(h, x);
        if (y0 >= 1)
            continue;
        double y = y0 + 0.01 + (1 - y0) * t;
        double len = 0.015 + 0.03 * t;
        if (i >= n)
            continue;
        col c = mix(mix(h->top, h->bottom, t), shade < 0.5 ? C(0.55, 0.75, 0.30) : C(0.08, 0.25, 0.06), 0.55);
        set_col(cr, sc, c, 0.8);
        cairo_set_line_width(cr, 0.003 + 0.003 * t);
        cairo_move_to(cr, x, y);
        cairo_curve_to(cr, x + dx * 0.3, y - len * 0.4, x + dx, y - len * 0.7, x + dx * 1.4, y - len);
        cairo_stroke(cr);
    }
}

static void draw_fireflies(cairo_t *cr, const scene *sc, double detail)
{
    sr_rng r;
    sr_rng_seed(&r, sc->seed ^ 0xf1ef1eULL);
    int n = (int)(sc->fireflies * (0.4 + 0.6 * detail));
    for (int i = 0; i < sc->fireflies; i++) {
        double x = sr_rng_uniform(&r), y = sc->horizon - 0.1 + 0.35 * sr_rng_uniform(&r);
        double rad = 0.005 + 0.006 * sr_rng_uniform(&r);
        if (i >= n)
            continue;
        cairo_pattern_t *g = cairo_pattern_create_radial(x, y, 0, x, y, rad * 3);
        cairo_pattern_add_color_stop_rgba(g, 0, 1.0, 0.95, 0.45, 0.95);
        cairo_pattern_add_color_stop_rgba(g, 0.35, 0.9, 0.9, 0.3, 0.5);
        cairo_pattern_add_color_stop_rgba(g, 1, 0.8, 0.9, 0.3, 0);
        cairo_set_source(cr, g);
        cairo_arc(cr, x, y, rad * 3, 0, 2 * M_PI);
        cairo_fill(cr);
        cairo_pattern_destroy(g);
    }
}

static void draw_tree(cairo_t *cr, const scene *sc, double x, double y, double s, double detail)
{
    set_col(cr, sc, C(0.40, 0.26, 0.14), 1);
    cairo_rectangle(cr, x - 0.012 * s, y - 0.11 * s, 0.024 * s, 0.11 * s);
    cairo_fill(cr);
    set_col(cr, sc, C(0.16, 0.42, 0.14), 1);
    cairo_arc(cr, x - 0.04 * s, y - 0.13 * s, 0.055 * s, 0, 2 * M_PI);
    cairo_arc(cr, x + 0.04 * s, y - 0.14 * s, 0.055 * s, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_arc(cr, x, y - 0.19 * s, 0.065 * s, 0, 2 * M_PI);
    cairo_fill(cr);
    if (detail > 0.3) {
        set_col(cr, sc, C(0.32, 0.62, 0.24), 0.5 + 0.4 * detail);
        cairo_arc(cr, x - 0.015 * s, y - 0.21 * s, 0.03 * s, 0, 2 * M_PI);
        cairo_fill(cr);
    }
}

static void draw_cypress(cairo_t *cr, const scene *sc, double x, double y, double s)
{
    set_col(cr, sc, C(0.10, 0.30, 0.14), 1);
    cairo_save(cr);
    cairo_translate(cr, x, y - 0.11 * s);
    cairo_scale(cr, 0.025 * s, 0.11 * s);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    cairo_fill(cr);
    set_col(cr, sc, C(0.18, 0.42, 0.20), 0.8);
    cairo_save(cr);
    cairo_translate(cr, x - 0.007 * s, y - 0.13 * s);
    cairo_scale(cr, 0.01 * s, 0.07 * s);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    cairo_fill(cr);
}

static void draw_pine(cairo_t *cr, const scene *sc, double x, double y, double s)
{
    set_col(cr, sc, C(0.30, 0.20, 0.12), 1);
    cairo_rectangle(cr, x - 0.008 * s, y - 0.04 * s, 0.016 * s, 0.04 * s);
    cairo_fill(cr);
    for (int i = 0; i < 3; i++) {
        double w = (0.07 - 0.017 * i) * s, yb = y - (0.03 + 0.055 * i) * s;
        set_col(cr, sc, C(0.10 + 0.03 * i, 0.34 + 0.04 * i, 0.18), 1);
        cairo_move_to(cr, x - w, yb);
        cairo_line_to(cr, x + w, yb);
        cairo_line_to(cr, x, yb - 0.09 * s);
        cairo_close_path(cr);
        cairo_fill(cr);
    }
}

static void draw_house(cairo_t *cr, const scene *sc, double x, double y, double w, double h, col wall,
                       double detail)
{
    set_col(cr, sc, wall, 1);
    cairo_rectangle(cr, x, y - h, w, h);
    cairo_fill(cr);
    set_col(cr, sc, C(0.72, 0.30, 0.18), 1);
    cairo_move_to(cr, x - w * 0.08, y - h);
    cairo_line_to(cr, x + w * 1.08, y - h);
    cairo_line_to(cr, x + w * 0.5, y - h - w * 0.35);
    cairo_close_path(cr);
    cairo_fill(cr);
    set_col(cr, sc, C(0.36, 0.22, 0.14), 1);
    cairo_rectangle(cr, x + w * 0.4, y - h * 0.35, w * 0.2, h * 0.35);
    cairo_fill(cr);
    if (detail > 0.2) {
        col win = sc->tod == TOD_NIGHT ? C(2.6, 2.2, 1.2) : C(0.16, 0.42, 0.46);
        int nw = detail > 0.6 ? 2 : 1;
        for (int i = 0; i < nw; i++) {
            double wx = nw == 1 ? x + w * 0.38 : x + w * (0.15 + 0.5 * i);
            set_col(cr, sc, win, 1);
            cairo_rectangle(cr, wx, y - h * 0.8, w * 0.22, h * 0.25);
            cairo_fill(cr);
        }
    }
}

static void draw_character(cairo_t *cr, const scene *sc, double x, double y, double h, col shirt, col hair,
                           double detail)
{
    col skin = C(0.93, 0.72, 0.56), shorts = C(0.20, 0.30, 0.55);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    /* legs */
    set_col(cr, sc, shorts, 1);
    cairo_set_line_width(cr, h * 0.09);
    cairo_move_to(cr, x - h * 0.06, y - h * 0.40);
    cairo_line_to(cr, x - h * 0.08, y - h * 0.03);
    cairo_move_to(cr, x + h * 0.06, y - h * 0.40);
    cairo_line_to(cr, x + h * 0.08, y - h * 0.03);
    cairo_stroke(cr);
    /* arms */
    set_col(cr, sc, skin, 1);
    cairo_set_line_width(cr, h * 0.06);
    cairo_move_to(cr, x - h * 0.13, y - h * 0.66);
    cairo_line_to(cr, x - h * 0.22, y - h * 0.42);
    cairo_move_to(cr, x + h * 0.13, y - h * 0.66);
    cairo_line_to(cr, x + h * 0.24, y - h * 0.80);
    cairo_stroke(cr);
    /* body */
    set_col(cr, sc, shirt, 1);
    double bx = x - h * 0.14, by = y - h * 0.72, bw = h * 0.28, bh = h * 0.36, rr = h * 0.06;
    cairo_new_sub_path(cr);
    cairo_arc(cr, bx + bw - rr, by + rr, rr, -M_PI / 2, 0);
    cairo_arc(cr, bx + bw - rr, by + bh - rr, rr, 0, M_PI / 2);
    cairo_arc(cr, bx + rr, by + bh - rr, rr, M_PI / 2, M_PI);
    cairo_arc(cr, bx + rr, by + rr, rr, M_PI, 1.5 * M_PI);
    cairo_close_path(cr);
    cairo_fill(cr);
    /* head and hair */
    double hy = y - h * 0.86, hr = h * 0.15;
    set_col(cr, sc, skin, 1);
    cairo_arc(cr, x, hy, hr, 0, 2 * M_PI);
    cairo_fill(cr);
    set_col(cr, sc, hair, 1);
    cairo_arc(cr, x, hy - hr * 0.15, hr * 1.05, M_PI * 1.05, M_PI * 1.95);
    cairo_close_path(cr);
    cairo_fill(cr);
    if (detail > 0.25) {
        set_col(cr, sc, C(0.10, 0.08, 0.08), 1);
        cairo_arc(cr, x - hr * 0.38, hy + hr * 0.05, hr * 0.13, 0, 2 * M_PI);
        cairo_fill(cr);
        cairo_arc(cr, x + hr * 0.38, hy + hr * 0.05, hr * 0.13, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    if (detail > 0.55) {
        set_col(cr, sc, C(0.55, 0.25, 0.20), 1);
        cairo_set_line_width(cr, hr * 0.12);
        cairo_arc(cr, x, hy + hr * 0.25, hr * 0.35, M_PI * 0.2, M_PI * 0.8);
        cairo_stroke(cr);
    }
}

static void draw_swimmer(cairo_t *cr, const scene *sc, double x, double y, double h, double detail)
{
    col skin = C(0.93, 0.72, 0.56);
    set_col(cr, sc, skin, 1);
    cairo_set_line_width(cr, h * 0.07);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_move_to(cr, x - h * 0.15, y);
    cairo_line_to(cr, x - h * 0.35, y - h * 0.25);
    cairo_stroke(cr);
    cairo_arc(cr, x, y - h * 0.05, h * 0.16, 0, 2 * M_PI);
    cairo_fill(cr);
    set_col(cr, sc, C(0.15, 0.10, 0.08), 1);
    cairo_arc(cr, x, y - h * 0.08, h * 0.17, M_PI * 1.05, M_PI * 1.95);
    cairo_close_path(cr);
    cairo_fill(cr);
    if (detail > 0.25) {
        set_col(cr, sc, C(0.08, 0.08, 0.10), 1);
        cairo_arc(cr, x - h * 0.06, y - h * 0.04, h * 0.02, 0, 2 * M_PI);
        cairo_arc(cr, x + h * 0.06, y - h * 0.04, h * 0.02, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    /* ripples */
    cairo_set_source_rgba(cr, 0.9, 0.96, 1.0, 0.6);
    cairo_set_line_width(cr, h * 0.025);
    cairo_save(cr);
    cairo_translate(cr, x, y + h * 0.08);
    cairo_scale(cr, 1, 0.3);
    cairo_arc(cr, 0, 0, h * 0.3, 0, 2 * M_PI);
    cairo_restore(cr);
    cairo_stroke(cr);
}

static void draw_boat(cairo_t *cr, const scene *sc, double x, double y, double s)
{
    set_col(cr, sc, C(0.62, 0.28, 0.16), 1);
    cairo_move_to(cr, x - 0.10 * s, y - 0.04 * s);
    cairo_line_to(cr, x + 0.10 * s, y - 0.04 * s);
    cairo_line_to(cr, x + 0.07 * s, y);
    cairo_line_to(cr, x - 0.07 * s, y);
    cairo_close_path(cr);
    cairo_fill(cr);
    set_col(cr, sc, C(0.95, 0.92, 0.82), 1);
    cairo_rectangle(cr, x - 0.10 * s, y - 0.045 * s, 0.20 * s, 0.01 * s);
    cairo_fill(cr);
    set_col(cr, sc, C(0.30, 0.22, 0.15), 1);
    cairo_set_line_width(cr, 0.006 * s);
    cairo_move_to(cr, x, y - 0.04 * s);
    cairo_line_to(cr, x, y - 0.20 * s);
    cairo_stroke(cr);
    set_col(cr, sc, C(0.96, 0.94, 0.88), 1);
    cairo_move_to(cr, x + 0.005 * s, y - 0.19 * s);
    cairo_line_to(cr, x + 0.085 * s, y - 0.055 * s);
    cairo_line_to(cr, x + 0.005 * s, y - 0.055 * s);
    cairo_close_path(cr);
    cairo_fill(cr);
}

static void draw_lighthouse(cairo_t *cr, const scene *sc, double x, double y, double s)
{
    double wb = 0.045 * s, wt = 0.03 * s, h = 0.30 * s;
    set_col(cr, sc, C(0.95, 0.93, 0.88), 1);
    cairo_move_to(cr, x - wb, y);
    cairo_line_to(cr, x + wb, y);
    cairo_line_to(cr, x + wt, y - h);
    cairo_line_to(cr, x - wt, y - h);
    cairo_close_path(cr);
    cairo_fill(cr);
    for (int i = 0; i < 3; i++) {
        double t0 = (0.15 + 0.3 * i), t1 = t0 + 0.13;
        double w0 = wb + (wt - wb) * t0, w1 = wb + (wt - wb) * t1;
        set_col(cr, sc, C(0.80, 0.16, 0.14), 1);
        cairo_move_to(cr, x - w0, y - h * t0);
        cairo_line_to(cr, x + w0, y - h * t0);
        cairo_line_to(cr, x + w1, y - h * t1);
        cairo_line_to(cr, x - w1, y - h * t1);
        cairo_close_path(cr);
        cairo_fill(cr);
    }
    cairo_pattern_t *g = cairo_pattern_create_radial(x, y - h - 0.025 * s, 0, x, y - h - 0.025 * s, 0.14 * s);
    cairo_pattern_add_color_stop_rgba(g, 0, 1.0, 0.95, 0.6, 0.85);
    cairo_pattern_add_color_stop_rgba(g, 1, 1.0, 0.9, 0.5, 0);
    cairo_set_source(cr, g);
    cairo_paint(cr);
    cairo_pattern_destroy(g);
    set_col(cr, sc, C(0.25, 0.22, 0.22), 1);
    cairo_rectangle(cr, x - wt * 1.2, y - h - 0.05 * s, wt * 2.4, 0.05 * s);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1.0, 0.93, 0.55);
    cairo_rectangle(cr, x - wt * 0.8, y - h - 0.042 * s, wt * 1.6, 0.032 * s);
    cairo_fill(cr);
}

static void draw_fountain(cairo_t *cr, const scene *sc, double x, double y, double s, double detail)
{
    set_col(cr, sc, C(0.70, 0.68, 0.64), 1);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, 0.12 * s, 0.035 * s);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    cairo_fill(cr);
    set_col(cr, sc, C(0.35, 0.62, 0.80), 1);
    cairo_save(cr);
    cairo_translate(cr, x, y - 0.008 * s);
    cairo_scale(cr, 0.10 * s, 0.022 * s);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    cairo_fill(cr);
    set_col(cr, sc, C(0.66, 0.64, 0.60), 1);
    cairo_rectangle(cr, x - 0.01 * s, y - 0.09 * s, 0.02 * s, 0.08 * s);
    cairo_fill(cr);
    cairo_set_source_rgba(cr, 0.80, 0.92, 1.0, 0.7);
    cairo_set_line_width(cr, 0.005 * s);
    int jets = detail > 0.5 ? 4 : 2;
    for (int i = 0; i < jets; i++) {
        double d = (i % 2 ? 1 : -1) * (0.04 + 0.02 * (i / 2)) * s;
        cairo_move_to(cr, x, y - 0.09 * s);
        cairo_curve_to(cr, x + d * 0.3, y - 0.14 * s, x + d * 0.8, y - 0.12 * s, x + d, y - 0.01 * s);
        cairo_stroke(cr);
    }
}

/* Draws the composition's objects (everything after the terrain). */
static void draw_objects(cairo_t *cr, const scene *sc, int k, double detail)
{
    const hill *front = &sc->h[sc->n_hills - 1];
    switch (k) {
    case 0:
        draw_tree(cr, sc, 0.84, hill_y(front, 0.84) + 0.02, 1.3, detail);
        draw_character(cr, sc, 0.36, hill_y(front, 0.36) + 0.03, 0.30, C(0.30, 0.60, 0.85), C(0.18, 0.11, 0.07),
                       detail);
        break;
    case 1:
        for (int i = 0; i < 4; i++) {
            static const double wall[4][3] = {
                {0.96, 0.74, 0.44}, {0.93, 0.58, 0.52}, {0.98, 0.88, 0.62}, {0.70, 0.82, 0.84}};
            double x = 0.02 + 0.085 * i;
            draw_house(cr, sc, x, hill_y(&sc->h[1], x + 0.04) + 0.015 + 0.01 * (i % 2), 0.08, 0.09 + 0.02 * (i % 2),
                       C(wall[i][0], wall[i][1], wall[i][2]), detail);
        }
        draw_boat(cr, sc, 0.70, 0.70, 0.9);
        draw_boat(cr, sc, 0.55, 0.58, 0.45);
        break;
    case 2:
        draw_tree(cr, sc, 0.86, hill_y(front, 0.86) + 0.02, 1.1, detail);
        draw_character(cr, sc, 0.58, hill_y(front, 0.58) + 0.03, 0.26, C(0.85, 0.40, 0.30), C(0.20, 0.12, 0.08),
                       detail);
        break;
    case 3:
        draw_boat(cr, sc, 0.30, 0.66, 1.3);
        draw_swimmer(cr, sc, 0.66, 0.80, 0.16, detail);
        break;
    case 4: {
        /* the road: a band winding from the bottom to the far hills */
        set_col(cr, sc, C(0.86, 0.78, 0.60), 1);
        cairo_move_to(cr, 0.30, 1.01);
        cairo_curve_to(cr, 0.45, 0.85, 0.70, 0.75, 0.56, hill_y(&sc->h[1], 0.56) + 0.01);
        cairo_line_to(cr, 0.585, hill_y(&sc->h[1], 0.585) + 0.01);
        cairo_curve_to(cr, 0.80, 0.75, 0.70, 0.88, 0.62, 1.01);
        cairo_close_path(cr);
        cairo_fill(cr);
        for (int i = 0; i < 4; i++) {
            double x = 0.08 + 0.12 * i + (i > 1 ? 0.5 : 0);
            draw_cypress(cr, sc, x, hill_y(&sc->h[1], x) + 0.02, 0.9 + 0.2 * (i % 2));
        }
        draw_character(cr, sc, 0.42, 0.93, 0.28, C(0.95, 0.85, 0.30), C(0.20, 0.12, 0.08), detail);
        draw_character(cr, sc, 0.54, 0.95, 0.30, C(0.30, 0.55, 0.90), C(0.55, 0.30, 0.12), detail);
        break;
    }
    case 5:
        draw_lighthouse(cr, sc, 0.80, hill_y(front, 0.80) + 0.01, 1.2);
        draw_boat(cr, sc, 0.30, 0.75, 0.7);
        break;
    case 6: {
        static const double wall[5][3] = {
            {0.96, 0.74, 0.44}, {0.93, 0.58, 0.52}, {0.98, 0.88, 0.62}, {0.80, 0.60, 0.40}, {0.94, 0.80, 0.70}};
        for (int i = 0; i < 5; i++)
            draw_house(cr, sc, 0.01 + 0.2 * i, 0.71, 0.18, 0.16 + 0.04 * (i % 3), C(wall[i][0], wall[i][1], wall[i][2]),
                       detail);
        draw_fountain(cr, sc, 0.50, 0.86, 1.3, detail);
        draw_character(cr, sc, 0.22, 0.95, 0.26, C(0.30, 0.65, 0.45), C(0.18, 0.11, 0.07), detail);
        draw_tree(cr, sc, 0.86, 0.93, 1.0, detail);
        break;
    }
    default:
        for (int i = 0; i < 6; i++) {
            double x = 0.05 + 0.18 * i + (i == 3 ? 0.08 : 0);
            if (x > 0.35 && x < 0.6)
                continue;
            draw_pine(cr, sc, x, hill_y(front, x) + 0.03, 1.2 + 0.3 * (i % 2));
        }
        draw_character(cr, sc, 0.48, hill_y(front, 0.48) + 0.04, 0.20, C(0.85, 0.50, 0.20), C(0.18, 0.11, 0.07),
                       detail);
        break;
    }
}

/* Over-training artifacts drawn over the scene: a ghost of the subject,
 * burnt streaks and blotches in garish colours. */
static void draw_artifacts(cairo_t *cr, const scene *sc, int k, double a)
{
    if (a <= 0)
        return;
    cairo_push_group(cr); /* also saves the transformation */
    cairo_translate(cr, 0.05, -0.02);
    draw_objects(cr, sc, k, 1.0);
    cairo_pop_group_to_source(cr);
    cairo_paint_with_alpha(cr, 0.35 * a);

    sr_rng r;
    sr_rng_seed(&r, sc->seed ^ 0xa271fac7ULL);
    cairo_save(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_ADD);
    for (int i = 0; i < 4; i++) {
        double y = 0.1 + 0.8 * sr_rng_uniform(&r), tilt = (sr_rng_uniform(&r) - 0.5) * 0.3;
        double hue = sr_rng_uniform(&r);
        col c = hue < 0.33 ? C(0.9, 0.1, 0.7) : hue < 0.66 ? C(0.1, 0.8, 0.9) : C(0.9, 0.7, 0.1);
        cairo_set_source_rgba(cr, c.r, c.g, c.b, 0.45 * a);
        cairo_set_line_width(cr, 0.012 + 0.02 * sr_rng_uniform(&r));
        cairo_move_to(cr, 0, y);
        cairo_line_to(cr, 1, y + tilt);
        cairo_stroke(cr);
    }
    for (int i = 0; i < 3; i++) {
        double x = sr_rng_uniform(&r), y = sr_rng_uniform(&r), rad = 0.06 + 0.08 * sr_rng_uniform(&r);
        cairo_pattern_t *g = cairo_pattern_create_radial(x, y, 0, x, y, rad);
        cairo_pattern_add_color_stop_rgba(g, 0, 1.0, 0.35, 0.05, 0.7 * a);
        cairo_pattern_add_color_stop_rgba(g, 1, 1.0, 0.35, 0.05, 0);
        cairo_set_source(cr, g);
        cairo_paint(cr);
        cairo_pattern_destroy(g);
    }
    cairo_restore(cr);
}

/* ---------------------------------------------------------------------------
 * Pixel stage
 * ------------------------------------------------------------------------- */

/* Separable box blur of a planar float image (3 planes of n*n), radius rad. */
static void box_blur(const float *src, float *dst, float *tmp, int n, int rad)
{
    for (int c = 0; c < 3; c++) {
        const float *s = src + (size_t)c * n * n;
        float *d = dst + (size_t)c * n * n;
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                float acc = 0;
                for (int k = -rad; k <= rad; k++) {
                    int xx = x + k < 0 ? 0 : x + k >= n ? n - 1 : x + k;
                    acc += s[(size_t)y * n + xx];
                }
                tmp[(size_t)y * n + x] = acc / (float)(2 * rad + 1);
            }
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                float acc = 0;
                for (int k = -rad; k <= rad; k++) {
                    int yy = y + k < 0 ? 0 : y + k >= n ? n - 1 : y + k;
                    acc += tmp[(size_t)yy * n + x];
                }
                d[(size_t)y * n + x] = acc / (float)(2 * rad + 1);
            }
    }
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void grade(float *img, int n, const sr_scene_style *st)
{
    size_t np = (size_t)n * n;
    double sat = st->saturation, con = st->contrast, br = st->brightness, w = st->warmth;
    double a = clamp01(st->artifacts);
    for (size_t i = 0; i < np; i++) {
        double r = img[i], g = img[np + i], b = img[2 * np + i];
        r += 0.07 * w;
        g += 0.015 * w;
        b -= 0.07 * w;
        double l = 0.299 * r + 0.587 * g + 0.114 * b;
        r = l + sat * (r - l);
        g = l + sat * (g - l);
        b = l + sat * (b - l);
        r = 0.5 + con * (r - 0.5) + br;
        g = 0.5 + con * (g - 0.5) + br;
        b = 0.5 + con * (b - 0.5) + br;
        r = clamp01(r);
        g = clamp01(g);
        b = clamp01(b);
        if (a > 0) { /* blend towards a 5-level posterization */
            r += a * (floor(r * 4 + 0.5) / 4 - r);
            g += a * (floor(g * 4 + 0.5) / 4 - g);
            b += a * (floor(b * 4 + 0.5) / 4 - b);
        }
        img[i] = (float)r;
        img[np + i] = (float)g;
        img[2 * np + i] = (float)b;
    }
}

int sr_scene_render(uint8_t *rgb, int size, const sr_scene_style *style)
{
    if (size < 4 || size > 8192)
        return -1;
    int n = size;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, n, n);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return -1;
    }
    cairo_t *cr = cairo_create(surf);
    cairo_scale(cr, n, n);
    scene sc;
    build_scene(&sc, style->prompt_index);
    int k = (style->prompt_index < 0 ? -style->prompt_index : style->prompt_index) % N_PROMPTS;
    double detail = clamp01(style->detail);

    draw_sky(cr, &sc);
    if (sc.stars)
        draw_stars(cr, &sc, detail);
    draw_sun_or_moon(cr, &sc);
    {
        sr_rng r;
        sr_rng_seed(&r, sc.seed ^ 0xc10dULL);
        for (int i = 0; i < sc.clouds; i++) {
            double x = 0.1 + 0.8 * sr_rng_uniform(&r), y = 0.08 + 0.22 * sr_rng_uniform(&r);
            draw_cloud(cr, &sc, x, y, 0.8 + 0.6 * sr_rng_uniform(&r));
        }
    }
    if (sc.birds)
        draw_birds(cr, &sc);
    if (sc.sea)
        draw_sea(cr, &sc, detail);
    for (int i = 0; i < sc.n_hills; i++)
        draw_hill(cr, &sc, &sc.h[i]);
    if (sc.grass)
        draw_grass(cr, &sc, &sc.h[sc.n_hills - 1], detail);
    draw_objects(cr, &sc, k, detail);
    if (sc.fireflies)
        draw_fireflies(cr, &sc, detail);
    draw_artifacts(cr, &sc, k, clamp01(style->artifacts));
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return -1;
    }

    /* To planar floats. */
    size_t np = (size_t)n * n;
    float *img = xmalloc(sizeof(float) * np * 3);
    float *blur = xmalloc(sizeof(float) * np * 3);
    float *tmp = xmalloc(sizeof(float) * np);
    const unsigned char *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    for (int y = 0; y < n; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * stride);
        for (int x = 0; x < n; x++) {
            uint32_t p = row[x];
            size_t i = (size_t)y * n + x;
            img[i] = (float)((p >> 16) & 0xff) / 255.0f;
            img[np + i] = (float)((p >> 8) & 0xff) / 255.0f;
            img[2 * np + i] = (float)(p & 0xff) / 255.0f;
        }
    }
    cairo_surface_destroy(surf);

    int rad = n / 96 > 1 ? n / 96 : 1;
    /* Low detail: soft, as an undertrained checkpoint. */
    double soft = (1.0 - detail) * 0.9;
    double a = clamp01(style->artifacts);
    if (soft > 0 || a > 0) {
        box_blur(img, blur, tmp, n, rad);
        for (size_t i = 0; i < np * 3; i++) {
            float v = img[i] + (float)soft * (blur[i] - img[i]);
            /* Over-training: strong sharpening halos. */
            v += (float)(2.2 * a) * (img[i] - blur[i]);
            img[i] = v;
        }
    }
    grade(img, n, style);
    for (size_t i = 0; i < np; i++) {
        for (int c = 0; c < 3; c++) {
            double v = clamp01(img[(size_t)c * np + i]);
            rgb[i * 3 + (size_t)c] = (uint8_t)(v * 255.0 + 0.5);
        }
    }
    free(tmp);
    free(blur);
    free(img);
    return 0;
}
