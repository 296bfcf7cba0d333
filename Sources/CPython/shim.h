#ifndef SPRIG_CPYTHON_SHIM_H
#define SPRIG_CPYTHON_SHIM_H
// pyconfig.h (pulled in by Python.h) defines _GNU_SOURCE, which changes glibc's struct layouts
// (fd_set) relative to Swift's Glibc module. Including a libc header first pins glibc's feature
// macros to the defaults SwiftGlibc uses. Only a clean build shows the failure without it.
#include <stdlib.h>
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

// Macros and C globals Swift cannot import (or, in Swift 6 mode, cannot touch safely).
static inline PyObject *sprig_none(void) { return Py_None; }      /* borrowed */
static inline PyObject *sprig_true(void) { return Py_True; }      /* borrowed */
static inline PyObject *sprig_false(void) { return Py_False; }    /* borrowed */
static inline int sprig_is_none(PyObject *o) { return o == Py_None; }
static inline int sprig_long_check(PyObject *o) { return PyLong_Check(o) && !PyBool_Check(o); }
static inline int sprig_bool_check(PyObject *o) { return PyBool_Check(o); }
static inline int sprig_float_check(PyObject *o) { return PyFloat_Check(o); }
static inline int sprig_unicode_check(PyObject *o) { return PyUnicode_Check(o); }
static inline int sprig_bytes_check(PyObject *o) { return PyBytes_Check(o); }
static inline int sprig_bytearray_check(PyObject *o) { return PyByteArray_Check(o); }
static inline int sprig_list_check(PyObject *o) { return PyList_Check(o); }
static inline int sprig_tuple_check(PyObject *o) { return PyTuple_Check(o); }
static inline int sprig_dict_check(PyObject *o) { return PyDict_Check(o); }
static inline int sprig_callable_check(PyObject *o) { return PyCallable_Check(o); }
static inline const char *sprig_type_name(PyObject *o) { return Py_TYPE(o)->tp_name; }
static inline PyObject *sprig_type_of(PyObject *o) { return (PyObject *)Py_TYPE(o); }  /* borrowed */
static inline PyObject *sprig_exc_timeout_error(void) { return PyExc_TimeoutError; }   /* borrowed */
static inline PyObject *sprig_exc_type_error(void) { return PyExc_TypeError; }         /* borrowed */
static inline int sprig_py_minor_version(void) { return PY_MINOR_VERSION; }
static inline int sprig_py_major_version(void) { return PY_MAJOR_VERSION; }
#endif
