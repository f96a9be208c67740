// English and German. The English text is the key; de.js holds its German. The language is the user's choice,
// kept in this browser, first taken from the browser's own.
import { useEffect, useState } from 'preact/hooks';
import de from './de.js';

const KEY = 'aos.language';
export const LANGUAGES = { en: 'English', de: 'Deutsch' };
let language = localStorage.getItem(KEY) || ((navigator.language || 'en').startsWith('de') ? 'de' : 'en');
const listeners = new Set();
document.documentElement.lang = language;

export function getLanguage() { return language; }

export function setLanguage(next) {
  language = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next;
  listeners.forEach((listener) => listener(next));
}

export function useLanguage() {
  const [value, setValue] = useState(language);
  useEffect(() => { listeners.add(setValue); return () => listeners.delete(setValue); }, []);
  return value;
}

// A text shown through t() later, from a list: marked so the translation check finds it (gettext's N_).
export const N_ = (text) => text;

// t('{n} documents', {n: 3})
export function t(text, values = {}) {
  const template = (language === 'de' && de[text]) || text;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

export function money(cents, currency = 'EUR') {
  return new Intl.NumberFormat(language, { style: 'currency', currency }).format((cents || 0) / 100);
}

export function dateTime(iso) {
  return iso ? new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)) : '';
}

export function date(iso) {
  return iso ? new Intl.DateTimeFormat(language, { dateStyle: 'medium' }).format(new Date(iso)) : '';
}

export function number(value) { return new Intl.NumberFormat(language).format(value); }

// 3725 -> "1:02:05"; 59 -> "0:59"
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

// a time left in words: "2 days 3 h", "45 min", "30 s"
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  if (s >= 86400) return t('{d} d {h} h', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
  if (s >= 3600) return t('{h} h {m} min', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
  if (s >= 60) return t('{m} min {s} s', { m: Math.floor(s / 60), s: s % 60 });
  return t('{s} s', { s });
}
